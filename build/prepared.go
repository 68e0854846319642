package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sdbuild/sdbuild/outputs"
	"github.com/sdbuild/sdbuild/sandbox"
)

// preparedPrefix names a prepared sandbox's build directory in the
// runner's builds directory: prepared-<build id>.
const preparedPrefix = "prepared-"

// Prepared is a sandbox started ahead of demand for one build id: init has
// built the part of the root every build has alike and waits, placed (the
// daemon: in the build's own scope, whose description says it waits), for
// a build's request. It holds no slot: the slot is leased, and its ids
// scanned for, when the build's turn comes, as for any build, so a
// prepared sandbox changes nothing of when the slot's ids are checked
// against the builder's start. It serves exactly one build, the one whose
// id it has; nothing of it is ever used for another.
type Prepared struct {
	id      string
	dir     string
	p       *sandbox.Process
	pl      *Placement
	started time.Time
	discard sync.Once
}

// ID is the build id the sandbox was prepared for.
func (pr *Prepared) ID() string { return pr.id }

// Alive reports whether init still waits (its scope stopped by hand, say,
// it would not).
func (pr *Prepared) Alive() bool { return pr.p.Alive() }

// Preparable reports whether a checked build can run in a prepared
// sandbox: one without features or scope properties that is not an
// action, on a daemon with root (see sandbox.SpawnPrepared).
func (r *Runner) Preparable(c *Checked) bool {
	return r.opt.UserNS == nil && r.opt.Unusable == nil && c.features == (sandbox.Features{}) && len(c.req.Properties) == 0 && c.req.Action == nil
}

// Prepare starts a sandbox for build id ahead of demand and returns once
// init waits for the request and the sandbox is placed. On error nothing
// of it is left.
func (r *Runner) Prepare(ctx context.Context, id string) (*Prepared, error) {
	if r.opt.Unusable != nil {
		return nil, fmt.Errorf("prepare sandbox %s: %w", id, r.opt.Unusable)
	}
	if r.opt.UserNS != nil {
		return nil, fmt.Errorf("prepare sandbox %s: not without root", id)
	}
	dir := filepath.Join(r.buildDir, preparedPrefix+id)
	if err := sandbox.PrepareDir(dir); err != nil {
		return nil, fmt.Errorf("prepare sandbox %s: %w", id, err)
	}
	pr := &Prepared{id: id, dir: dir, started: time.Now()}
	p, err := sandbox.SpawnPrepared(&sandbox.Spec{BuildID: id, Dir: dir})
	if err != nil {
		outputs.Remove(dir)
		return nil, fmt.Errorf("prepare sandbox %s: %w", id, err)
	}
	pr.p = p
	// As for a build: place init while it builds the root.
	type placed struct {
		pl  *Placement
		err error
	}
	pc := make(chan placed, 1)
	if r.opt.Place != nil {
		go func() {
			pl, err := r.opt.Place(ctx, id, p.PID(), nil)
			pc <- placed{pl, err}
		}()
	} else {
		pc <- placed{}
	}
	rerr := p.Ready()
	got := <-pc
	pr.pl = got.pl
	if rerr != nil || got.err != nil {
		pr.Discard()
		if rerr == nil {
			rerr = got.err
		}
		return nil, fmt.Errorf("prepare sandbox %s: %w", id, rerr)
	}
	return pr, nil
}

// Discard ends a prepared sandbox that no build will use: its init, its
// placement and its directory.
func (pr *Prepared) Discard() {
	pr.discard.Do(func() {
		pr.p.Kill()
		pr.p.Wait()
		pr.p.Log.Close() // nobody pumps the log of a sandbox no build took
		if pr.pl != nil {
			pr.pl.End()
		}
		outputs.Remove(pr.dir)
	})
}

// removePrepared removes the directories of sandboxes prepared by an
// earlier runner on dir (a daemon that stopped or crashed): no build ran
// in one that was not removed after it, but one may have run to its end.
func removePrepared(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), preparedPrefix) {
			outputs.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
