package daemon

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/buildlog"
	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/history"
)

// collectEvery is how often the daemon applies keep-history, keep-logs and
// keep-build-dirs while it runs; it also does at start, since a
// socket-activated daemon may never run an hour.
const collectEvery = time.Hour

// compactMinFree is the least free space in the history file worth a
// rewrite; below it the file is small whatever its share of free pages.
const compactMinFree = 1 << 20

// policy is what one collection removes: records by r, logs written before
// logsBefore, kept directories made before dirsBefore (zero: none).
type policy struct {
	r                      history.Retention
	logsBefore, dirsBefore time.Time
}

// configuredPolicy is the configuration's policy as of now.
func configuredPolicy(o *config.Operations, now time.Time) policy {
	var p policy
	hist, logs, dirs := o.Ages()
	if hist > 0 {
		p.r.FinishedBefore = now.Add(-hist)
	}
	if logs > 0 {
		p.logsBefore = now.Add(-logs)
	}
	p.dirsBefore = now.Add(-dirs)
	return p
}

// requestedPolicy is gc's policy: --older-than for records, logs and kept
// directories alike, --keep for records; neither is the configuration's.
func requestedPolicy(o *config.Operations, r *api.GCRequest, now time.Time) (policy, error) {
	if r.OlderThan == "" && r.Keep == 0 {
		return configuredPolicy(o, now), nil
	}
	if r.Keep < 0 {
		return policy{}, fmt.Errorf("%w: keep %d: must not be negative", errBadInput, r.Keep)
	}
	age, err := config.ParseAge(r.OlderThan)
	if err != nil {
		return policy{}, fmt.Errorf("%w: older-than: %w", errBadInput, err)
	}
	p := policy{r: history.Retention{Keep: r.Keep}}
	if r.OlderThan != "" { // "0s" too: everything finished by now
		p.r.FinishedBefore = now.Add(-age)
		p.logsBefore, p.dirsBefore = p.r.FinishedBefore, p.r.FinishedBefore
	}
	return p, nil
}

// collect removes what p selects: finished builds' records and their logs,
// older logs, old kept directories; then compacts the history when that
// left it mostly free pages. Nothing of a queued or running build is
// touched: the history never prunes its active set, and the logs and
// directories of the daemon's jobs are skipped by id.
func (d *Daemon) collect(p policy) (*api.GCReport, error) {
	d.collectMu.Lock()
	defer d.collectMu.Unlock()
	rep := &api.GCReport{}
	pruned, err := d.store.Prune(p.r)
	rep.Builds = len(pruned)
	for _, b := range pruned {
		// A pruned build is finished; no job can have its id.
		if err := buildlog.Remove(d.logDir, b.ID); err != nil {
			d.log.Warn("remove log", "id", b.ID, "err", err)
			continue
		}
		rep.Logs++
	}
	if err != nil {
		return rep, err
	}
	if !p.logsBefore.IsZero() {
		n, bytes, err := buildlog.Prune(d.logDir, p.logsBefore, d.isActive)
		rep.Logs += n
		rep.LogBytes += bytes
		if err != nil {
			return rep, err
		}
	}
	if !p.dirsBefore.IsZero() {
		n, err := d.collectKept(p.dirsBefore)
		rep.Dirs = n
		if err != nil {
			return rep, err
		}
	}
	u, err := d.store.Usage()
	if err != nil {
		return rep, err
	}
	if u.Sparse(compactMinFree) {
		if err := d.store.Compact(); err != nil {
			return rep, err
		}
		rep.Compacted = true
		if u, err = d.store.Usage(); err != nil {
			return rep, err
		}
	}
	rep.FileBytes = u.FileBytes
	if rep.Builds+rep.Logs+rep.Dirs > 0 || rep.Compacted {
		buildlog.Event("gc", "", fmt.Sprintf("gc removed %d build records, %d logs (%d bytes), %d kept build directories; history file %d bytes",
			rep.Builds, rep.Logs, rep.LogBytes, rep.Dirs, rep.FileBytes), map[string]string{
			buildlog.FieldEvent:    buildlog.EventCollected,
			"SDBUILD_GC_BUILDS":    strconv.Itoa(rep.Builds),
			"SDBUILD_GC_LOGS":      strconv.Itoa(rep.Logs),
			"SDBUILD_GC_DIRS":      strconv.Itoa(rep.Dirs),
			"SDBUILD_GC_COMPACTED": strconv.FormatBool(rep.Compacted),
		})
	}
	return rep, nil
}

// isActive reports whether build id is queued or running here.
func (d *Daemon) isActive(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.jobs[id]
	return ok
}

// collectLoop applies the configured retention at start and every
// collectEvery until ctx ends. gc runs one at a time (collectMu): the
// loop and a user's sdbuild gc never race over the same files.
func (d *Daemon) collectLoop(ctx context.Context) {
	t := time.NewTicker(collectEvery)
	defer t.Stop()
	for {
		rep, err := d.collect(configuredPolicy(&d.cfg.Ops, time.Now()))
		if err != nil {
			d.log.Warn("collect", "err", err)
		} else if rep.Builds+rep.Logs+rep.Dirs > 0 || rep.Compacted {
			d.log.Info("collected", "builds", rep.Builds, "logs", rep.Logs, "dirs", rep.Dirs, "compacted", rep.Compacted)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// handleGC collects now, for trusted users (it removes every user's
// builds).
func (d *Daemon) handleGC(w http.ResponseWriter, r *http.Request) {
	p := peerFrom(r)
	if p == nil || !p.trusted {
		writeError(w, fmt.Errorf("gc: %w: only trusted-users may remove builds' records and logs", ErrForbidden))
		return
	}
	var req api.GCRequest
	if !readRequest(w, r, &req) {
		return
	}
	pol, err := requestedPolicy(&d.cfg.Ops, &req, time.Now())
	if err != nil {
		writeError(w, err)
		return
	}
	rep, err := d.collect(pol)
	if err != nil {
		writeError(w, fmt.Errorf("gc: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
