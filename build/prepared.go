package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
// sandbox: one without features that is not an action (see
// sandbox.SpawnPrepared), whose scope properties are those the prepared
// scopes were started with (Options.PreparedProperties).
func (r *Runner) Preparable(c *Checked) bool {
	return r.canPrepare() == nil && c.features == (sandbox.Features{}) && slices.Equal(c.req.Properties, r.opt.PreparedProperties) && c.req.Action == nil
}

// canPrepare says why this runner cannot prepare sandboxes, if it cannot:
// its sandbox is unusable here, or init's namespace lacks the pool of
// subordinate ids a slot will come from (sandbox.CanPrepare).
func (r *Runner) canPrepare() error {
	if r.opt.Unusable != nil {
		return r.opt.Unusable
	}
	return sandbox.CanPrepare(r.opt.UserNS)
}

// Prepare starts a sandbox for build id ahead of demand and returns once
// init waits for the request and the sandbox is placed. On error nothing
// of it is left.
func (r *Runner) Prepare(ctx context.Context, id string) (*Prepared, error) {
	if err := r.canPrepare(); err != nil {
		return nil, fmt.Errorf("prepare sandbox %s: %w", id, err)
	}
	dir := filepath.Join(r.buildDir, preparedPrefix+id)
	if err := sandbox.PrepareDir(dir); err != nil {
		return nil, fmt.Errorf("prepare sandbox %s: %w", id, err)
	}
	pr := &Prepared{id: id, dir: dir, started: time.Now()}
	p, err := sandbox.SpawnPrepared(&sandbox.Spec{BuildID: id, Dir: dir, UserNS: r.opt.UserNS})
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
			pr.pl.End()()
		}
		outputs.Remove(pr.dir)
	})
}

// StalePrepared lists the directories of sandboxes an earlier runner
// prepared on this state directory (a daemon that stopped or crashed) and
// returns what removes them, with whatever a build that ran in one left
// there: that build may have run to its end, on any slot's ids. Listed
// now, they can be removed while this runner prepares its own. A
// directory that cannot be removed (its files on ids no longer in the
// pool, say) is moved aside to stale-prepared-<id>, for an administrator,
// and named in the error; it is not tried again.
//
// Only the runner that prepares sandboxes may call it, before it prepares
// any: the daemon, one to a state directory. Others (run --local) run
// beside it, whose prepared sandboxes are not theirs to remove.
func (r *Runner) StalePrepared() (remove func() error, err error) {
	ents, err := os.ReadDir(r.buildDir)
	if err != nil {
		return nil, fmt.Errorf("stale prepared sandboxes: %w", err)
	}
	var dirs []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), preparedPrefix) {
			dirs = append(dirs, e.Name())
		}
	}
	return func() error {
		var errs []error
		for _, name := range dirs {
			// Without root, their files are taken back through init's
			// map, which is the whole pool's when there is one
			// (canPrepare).
			s := &sandbox.Spec{Dir: filepath.Join(r.buildDir, name), UserNS: r.opt.UserNS}
			err := removeDir(s, false)
			if err == nil {
				continue
			}
			aside := filepath.Join(r.buildDir, "stale-"+name)
			if rerr := os.Rename(s.Dir, aside); rerr != nil {
				errs = append(errs, fmt.Errorf("remove stale prepared sandbox %s: %w (and moving it aside: %w)", s.Dir, err, rerr))
				continue
			}
			errs = append(errs, fmt.Errorf("remove stale prepared sandbox %s: %w; moved it to %s, to be removed by hand", s.Dir, err, aside))
		}
		return errors.Join(errs...)
	}, nil
}
