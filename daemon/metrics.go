package daemon

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/sdbuild/sdbuild/api"
)

// durationBuckets are the histogram's upper bounds, in seconds: builds
// range from a second to hours.
var durationBuckets = []float64{1, 5, 15, 60, 300, 900, 3600, 4 * 3600}

// metrics counts builds since the daemon started; protected by Daemon.mu.
type metrics struct {
	finished map[api.Status]int
	buckets  []int // builds with a duration of at most durationBuckets[i]
	count    int
	sum      float64 // seconds
}

func newMetrics() metrics {
	return metrics{finished: map[api.Status]int{}, buckets: make([]int, len(durationBuckets))}
}

// observeLocked counts a final record b.
func (m *metrics) observeLocked(b *api.Build) {
	m.finished[b.Status]++
	if b.Started.IsZero() {
		return // never ran: no duration
	}
	s := b.Finished.Sub(b.Started).Seconds()
	m.count++
	m.sum += s
	for i, le := range durationBuckets {
		if s <= le {
			m.buckets[i]++
		}
	}
}

// finishedStatuses are every final status, so that a counter is exported
// at 0 before its first build: a rate() over a series that appears late
// misses its first increase.
var finishedStatuses = []api.Status{api.StatusSucceeded, api.StatusFailed, api.StatusTimedOut, api.StatusCancelled, api.StatusInterrupted}

// writeMetrics writes the Prometheus text exposition format (version
// 0.0.4) of s and m.
func writeMetrics(w io.Writer, s *api.DaemonStatus, m *metrics) {
	gauge := func(name, help string, v int) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", name, help, name, name, v)
	}
	fmt.Fprintf(w, "# HELP sdbuild_builds_finished_total Builds that ended since sdbuildd started, by status.\n# TYPE sdbuild_builds_finished_total counter\n")
	statuses := slices.Clone(finishedStatuses)
	for st := range m.finished {
		if !slices.Contains(statuses, st) {
			statuses = append(statuses, st)
		}
	}
	for _, st := range statuses {
		fmt.Fprintf(w, "sdbuild_builds_finished_total{status=%q} %d\n", st, m.finished[st])
	}
	gauge("sdbuild_builds_running", "Builds running now.", s.Running)
	gauge("sdbuild_queue_depth", "Builds waiting for a slot.", s.Queued)
	gauge("sdbuild_slots", "UID slots in the id range.", s.Slots)
	gauge("sdbuild_slots_free", "UID slots free now.", s.SlotsFree)
	gauge("sdbuild_slots_quarantined", "UID slots out of service: processes with their ids could not be killed.", len(s.Quarantined))
	gauge("sdbuild_max_jobs", "Builds run at once at most (max-jobs).", s.MaxJobs)
	fmt.Fprintf(w, "# HELP sdbuild_build_duration_seconds How long builds ran, from start to end.\n# TYPE sdbuild_build_duration_seconds histogram\n")
	for i, le := range durationBuckets {
		fmt.Fprintf(w, "sdbuild_build_duration_seconds_bucket{le=\"%g\"} %d\n", le, m.buckets[i])
	}
	fmt.Fprintf(w, "sdbuild_build_duration_seconds_bucket{le=\"+Inf\"} %d\n", m.count)
	fmt.Fprintf(w, "sdbuild_build_duration_seconds_sum %g\n", m.sum)
	fmt.Fprintf(w, "sdbuild_build_duration_seconds_count %d\n", m.count)
	fmt.Fprintf(w, "# HELP sdbuild_up_seconds Seconds since sdbuildd started.\n# TYPE sdbuild_up_seconds gauge\nsdbuild_up_seconds %d\n",
		int64(time.Since(s.Since).Seconds()))
}

// handleMetrics serves the metrics to anyone who may connect: they are
// counts, and name no build or user.
func (d *Daemon) handleMetrics(w http.ResponseWriter, r *http.Request) {
	s := d.Status()
	d.mu.Lock()
	m := d.metrics.cloneLocked()
	d.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	writeMetrics(w, s, &m)
}

func (m *metrics) cloneLocked() metrics {
	c := *m
	c.finished = maps.Clone(m.finished)
	c.buckets = slices.Clone(m.buckets)
	return c
}

// finishedCountsLocked is m's builds by final status, for the status API.
func (m *metrics) finishedCountsLocked() map[string]int {
	out := make(map[string]int, len(m.finished))
	for st, n := range m.finished {
		out[string(st)] = n
	}
	return out
}
