package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/buildlog"
)

// Recover cleans up after a previous sdbuildd that did not stop cleanly
// (kill -9, a crash, a power cut): it kills and removes every
// sdbuild-*.scope systemd still has, and records every build the history
// still shows as queued or running as interrupted. The UID slots those
// builds held are cleared when next leased (see package slots).
func (d *Daemon) Recover(ctx context.Context) error {
	units, err := d.scopes.List(ctx, "sdbuild-*.scope")
	if err != nil {
		return fmt.Errorf("recover: list leftover scopes: %w", err)
	}
	var ours []string
	for _, u := range units {
		// The glob also matches other units that merely start with
		// "sdbuild-"; only a build's own scope name is ours to kill.
		if IsBuildUnit(u) {
			ours = append(ours, u)
		}
	}
	units = ours
	for _, u := range units {
		d.log.Info("killing leftover build scope", "unit", u)
		// Kill returns once systemd has stopped the scope.
		if err := d.scopes.Kill(ctx, u); err != nil {
			d.log.Warn("kill leftover scope", "unit", u, "err", err)
		}
	}
	active, err := d.store.Active()
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	now := time.Now().UTC()
	for _, b := range active {
		b.Error = fmt.Sprintf("sdbuildd stopped while the build was %s; it was killed", b.Status)
		if b.Status == api.StatusQueued {
			// The running record is written while a build starts, so
			// a build that had just started may still read as queued.
			b.Error = "sdbuildd stopped while the build was queued or starting; it was killed"
		}
		b.Status, b.Finished = api.StatusInterrupted, now
		b.Cause = api.CauseDaemonStopped
	}
	// One commit for all of them, as history.PutAll is for.
	if err := d.store.PutAll(active); err != nil {
		return fmt.Errorf("recover: record interrupted builds: %w", err)
	}
	for _, b := range active {
		buildlog.Finished(b.ID, b.Unit, journalOutcome(b))
	}
	if len(units)+len(active) > 0 {
		d.log.Info("recovered from an unclean stop", "scopes_killed", len(units), "builds_interrupted", len(active))
	}
	return nil
}
