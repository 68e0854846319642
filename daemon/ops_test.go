package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/history"
)

// gc over a few thousand finished builds and their logs removes what the
// policy selects, compacts the history, and leaves a queued and a running
// build's record and log alone however old their logs look.
func TestCollectThousands(t *testing.T) {
	d, f := newQueueDaemon(t, 1, 1)
	running, queued := submit(t, d, "running"), submit(t, d, "queued")
	run := nextRun(t, f)
	const n = 3000
	base := time.Now().Add(-100 * 24 * time.Hour)
	var bs []*api.Build
	for i := range n {
		id := fmt.Sprintf("%012x", 0xa00000+i)
		bs = append(bs, &api.Build{ID: id, UID: 1000, User: "alice", Slot: i % 4, Args: []string{"make", strings.Repeat("x", 300)},
			Outcome: api.Outcome{Status: api.StatusSucceeded}, Created: base.Add(time.Duration(i) * time.Minute),
			Started: base.Add(time.Duration(i) * time.Minute), Finished: base.Add(time.Duration(i)*time.Minute + time.Second)})
		if err := os.WriteFile(filepath.Join(d.logDir, id+".log"), []byte("log\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.store.PutAll(bs); err != nil {
		t.Fatal(err)
	}
	// The active builds' logs look a year old.
	old := time.Now().Add(-365 * 24 * time.Hour)
	for _, id := range []string{running, queued} {
		os.Chtimes(filepath.Join(d.logDir, id+".log"), old, old)
	}
	rep, err := d.collect(policy{r: history.Retention{Keep: 100}, logsBefore: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Builds != n-100 || rep.Logs != n || !rep.Compacted {
		t.Errorf("collect = %+v, want %d builds, %d logs (the rest by age), compacted", rep, n-100, n)
	}
	for _, id := range []string{running, queued} {
		if b, err := d.store.Get(id); err != nil || b.Status.Finished() {
			t.Errorf("active build %s after gc: %+v, %v", id, b, err)
		}
		if _, err := os.Stat(filepath.Join(d.logDir, id+".log")); err != nil {
			t.Errorf("log of active build %s after gc: %v", id, err)
		}
	}
	left, _ := d.store.List(history.Filter{Limit: -1})
	if len(left) != 102 {
		t.Errorf("%d records after gc, want the newest 100 finished and 2 active", len(left))
	}
	run.end <- api.Outcome{Status: api.StatusSucceeded}
	final(t, d, running)
}

// gc's request: --older-than and --keep, or the configuration's policy.
func TestRequestedPolicy(t *testing.T) {
	d, _ := newQueueDaemon(t, 1, 1)
	now := time.Now()
	p, err := requestedPolicy(&d.cfg.Ops, &api.GCRequest{OlderThan: "30d", Keep: 10}, now)
	if err != nil || !p.r.FinishedBefore.Equal(now.Add(-30*24*time.Hour)) || p.r.Keep != 10 || !p.logsBefore.Equal(p.r.FinishedBefore) {
		t.Errorf("requestedPolicy(30d, 10) = %+v, %v", p, err)
	}
	if p, _ := requestedPolicy(&d.cfg.Ops, &api.GCRequest{OlderThan: "0s"}, now); !p.r.FinishedBefore.Equal(now) {
		t.Errorf("requestedPolicy(0s) = %+v, want everything finished by now", p)
	}
	if _, err := requestedPolicy(&d.cfg.Ops, &api.GCRequest{OlderThan: "a while"}, now); !errors.Is(err, errBadInput) {
		t.Errorf("requestedPolicy(a while) = %v, want errBadInput", err)
	}
	d.cfg.Ops.KeepHistory, d.cfg.Ops.KeepLogs = "90d", "30d"
	p, _ = requestedPolicy(&d.cfg.Ops, &api.GCRequest{}, now)
	if !p.r.FinishedBefore.Equal(now.Add(-90*24*time.Hour)) || !p.logsBefore.Equal(now.Add(-30*24*time.Hour)) || p.r.Keep != 0 {
		t.Errorf("requestedPolicy(configured) = %+v", p)
	}
}

// Only trusted users may collect.
func TestGCTrusted(t *testing.T) {
	d, _ := newQueueDaemon(t, 1, 1)
	for _, tt := range []struct {
		p    *peer
		code int
	}{
		{testPeer, http.StatusForbidden},
		{&peer{name: "root", allowed: true, trusted: true}, http.StatusOK},
	} {
		req := httptest.NewRequest("POST", api.PathGC, strings.NewReader(`{"keep":5}`))
		req = req.WithContext(context.WithValue(req.Context(), ctxKey{}, tt.p))
		w := httptest.NewRecorder()
		d.Handler().ServeHTTP(w, req)
		if w.Code != tt.code {
			t.Errorf("POST %s as %s = %d %s, want %d", api.PathGC, tt.p.name, w.Code, w.Body, tt.code)
		}
	}
}

// The metrics count builds by status and their durations, and show the
// queue and the slots.
func TestMetrics(t *testing.T) {
	d, f := newQueueDaemon(t, 2, 1)
	a, b := submit(t, d, "a"), submit(t, d, "b")
	nextRun(t, f).end <- api.Outcome{Status: api.StatusSucceeded}
	final(t, d, a)
	nextRun(t, f).end <- api.Outcome{Status: api.StatusFailed, ExitCode: 2}
	final(t, d, b)
	c := submit(t, d, "c")
	run := nextRun(t, f)
	submit(t, d, "d") // waits: max-jobs is 1

	req := httptest.NewRequest("GET", api.PathMetrics, nil)
	w := httptest.NewRecorder()
	d.Handler().ServeHTTP(w, req)
	body := w.Body.String()
	for _, want := range []string{
		`sdbuild_builds_finished_total{status="succeeded"} 1`,
		`sdbuild_builds_finished_total{status="failed"} 1`,
		`sdbuild_builds_finished_total{status="timed-out"} 0`,
		"sdbuild_builds_running 1",
		"sdbuild_queue_depth 1",
		"sdbuild_slots 2",
		"sdbuild_slots_free 1",
		"sdbuild_slots_quarantined 0",
		`sdbuild_build_duration_seconds_bucket{le="1"} 2`,
		`sdbuild_build_duration_seconds_bucket{le="+Inf"} 2`,
		"sdbuild_build_duration_seconds_count 2",
		"# TYPE sdbuild_build_duration_seconds histogram",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q", ct)
	}
	if s := d.Status(); s.Finished["succeeded"] != 1 || s.Finished["failed"] != 1 {
		t.Errorf("Status().Finished = %v", s.Finished)
	}
	run.end <- api.Outcome{Status: api.StatusSucceeded}
	final(t, d, c)
	d.shutdown()
}

// A rerun is the stored request, submitted again by the build's own user,
// on another slot when one is free; no one else may rerun it.
func TestRerun(t *testing.T) {
	d, f := newQueueDaemon(t, 2, 1)
	orig, err := d.submitFrom(testPeer, &api.SubmitRequest{Name: "r", Args: []string{"make", "all"}, Env: []string{"A=1"}, Timeout: api.Duration(time.Minute)}, -1)
	if err != nil {
		t.Fatal(err)
	}
	run := nextRun(t, f)
	run.end <- api.Outcome{Status: api.StatusSucceeded}
	b := final(t, d, orig.ID)
	if b.Request == nil || time.Duration(b.Request.Timeout) != time.Minute || b.Request.Env[0] != "A=1" {
		t.Fatalf("stored request = %+v", b.Request)
	}
	if _, err := rerunRequest(b, &peer{name: "bob", uid: 1001, allowed: true, trusted: true}, &api.RerunRequest{}); !errors.Is(err, ErrForbidden) {
		t.Errorf("rerun by another (even trusted) user = %v, want ErrForbidden", err)
	}
	old := *b
	old.Request = nil
	if _, err := rerunRequest(&old, testPeer, &api.RerunRequest{}); !errors.Is(err, errBadInput) {
		t.Errorf("rerun of a record without a request = %v, want errBadInput", err)
	}
	sr, err := rerunRequest(b, testPeer, &api.RerunRequest{OtherSlot: true})
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.submitFrom(testPeer, sr, b.Slot)
	if err != nil {
		t.Fatal(err)
	}
	r2 := nextRun(t, f)
	r2.end <- api.Outcome{Status: api.StatusSucceeded}
	b2 := final(t, d, again.ID)
	if b2.Slot == b.Slot || strings.Join(b2.Args, " ") != "make all" || b2.Request.Name != "r" {
		t.Errorf("rerun = slot %d args %q request %+v; want another slot than %d, the same request", b2.Slot, b2.Args, b2.Request, b.Slot)
	}
}

// Journal entries of every finished build name its cause.
func TestJournalOutcome(t *testing.T) {
	b := &api.Build{Outcome: api.Outcome{Status: api.StatusCancelled, Cause: api.CauseCancelled, CancelledBy: "alice"},
		Started: time.Unix(10, 0), Finished: time.Unix(12, 0), IOReadBytes: 1}
	o := journalOutcome(b)
	if o.Cause != api.CauseCancelled || o.CancelledBy != "alice" || o.Duration != 2*time.Second || o.IOReadBytes != 1 {
		t.Errorf("journalOutcome = %+v", o)
	}
}

// startingRunner's builds are cancelled while they start: Run ends with
// the context's error, as a scope start or a sandbox spawn would.
type startingRunner struct{ *fakeRunner }

func (s startingRunner) Lease(id string) (Lease, error) {
	l, err := s.fakeRunner.Lease(id)
	if err != nil {
		return nil, err
	}
	return startingLease{l.(*fakeLease)}, nil
}

type startingLease struct{ *fakeLease }

func (l startingLease) Run(ctx context.Context, _ *build.Checked, _ io.Writer) (*build.Result, error) {
	defer l.Release()
	l.f.runs <- &fakeRun{id: l.id}
	<-ctx.Done()
	return nil, fmt.Errorf("start scope sdbuild-%s.scope: %w", l.id, ctx.Err())
}

// A build cancelled while it starts is recorded cancelled, by whom, not
// failed; one the daemon's stop ends then is interrupted.
func TestCancelWhileStarting(t *testing.T) {
	cfg := config.Defaults()
	cfg.StateDir = t.TempDir()
	cfg.StartID, cfg.IDCount, cfg.IDsPerBuild = 0xE4000000, 2*65536, 65536
	cfg.MaxJobs = 2
	f := newFakeRunner(2)
	d, err := New(Options{Config: &cfg, Scopes: noScopes{}, Runner: startingRunner{f}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.dispatch(ctx)
	a := submit(t, d, "a")
	nextRun(t, f)
	if err := d.cancelBuild(a, "alice"); err != nil {
		t.Fatal(err)
	}
	if b := final(t, d, a); b.Status != api.StatusCancelled || b.Cause != api.CauseCancelled || b.CancelledBy != "alice" {
		t.Errorf("cancelled while starting: %+v", b.Outcome)
	}
	c := submit(t, d, "c")
	nextRun(t, f)
	d.shutdown()
	if b := final(t, d, c); b.Status != api.StatusInterrupted || b.Cause != api.CauseDaemonStopped {
		t.Errorf("stopped while starting: %+v", b.Outcome)
	}
}
