package daemon

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/buildlog"
)

// runAction runs a remote action (the runner service) as a build of peer
// p, queued with every other build, and returns its final record and
// result once it is over. Cancelling ctx cancels the build; runAction
// still waits for its end, which the cancel brings about: the build is
// killed and its slot freed, so the caller can answer that nothing of it
// is left.
func (d *Daemon) runAction(ctx context.Context, p *peer, req *build.Request) (*api.Build, *build.Result, error) {
	if !p.trusted {
		return nil, nil, fmt.Errorf("user %s may not run remote actions (trusted-users = %v): %w", p.name, d.cfg.TrustedUsers, ErrForbidden)
	}
	// Properties are checked as for any build: an unenforceable limit is
	// refused, not silently dropped.
	if err := checkHost(&submitChecks{properties: req.Properties, ownCgroup: d.cfg.Rootless != nil}); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", build.ErrBadRequest, err)
	}
	j, _, err := d.submitJob(p, req)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	select {
	case <-j.ended:
	case <-ctx.Done():
		if err := d.cancelBuild(j.id, p.name); err != nil {
			d.log.Debug("cancel remote action", "id", j.id, "err", err) // it ended meanwhile
		}
		<-j.ended
	}
	// Final in memory: nothing of the build runs, its slot is free; its
	// record is written meanwhile.
	d.mu.Lock()
	rec, res := j.snapshotLocked(), j.result
	d.mu.Unlock()
	fields := map[string]string{buildlog.FieldEvent: "action", "SDBUILD_RUNNER_PEER": p.name, "SDBUILD_EXIT_CODE": fmt.Sprint(rec.ExitCode)}
	if req.Action != nil {
		maps.Copy(fields, req.Action.Journal)
	}
	if err := buildlog.Event(j.id, rec.Unit, fmt.Sprintf("remote %s of %s: %s in %s", req.Name, p.name, rec.Status, time.Since(start).Round(time.Millisecond)), fields); err != nil {
		d.log.Warn("journal remote action", "id", j.id, "err", err)
	}
	return rec, res, nil
}
