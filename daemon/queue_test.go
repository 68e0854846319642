package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/slots"
)

// The queue's tests drive a fake Runner: no root, no namespaces, no
// systemd. Every build it starts waits until the test ends it (end) or
// its context is cancelled, so the test decides what runs when.

// fakeRunner leases from a fixed set of slots and reports each build it
// runs on runs.
type fakeRunner struct {
	free     chan int      // free slot numbers
	runs     chan *fakeRun // builds as they start running
	attempts atomic.Int64  // calls of Lease
	// gate, when set, holds every Lease until a receive from it succeeds
	// (or hangGuard passes): a dispatcher busy leasing.
	gate chan struct{}
}

func newFakeRunner(slots int) *fakeRunner {
	f := &fakeRunner{free: make(chan int, slots), runs: make(chan *fakeRun, 64)}
	for i := range slots {
		f.free <- i
	}
	return f
}

func (f *fakeRunner) Check(*build.Request) (*build.Checked, error) { return &build.Checked{}, nil }

func (f *fakeRunner) Lease(id string) (Lease, error) {
	f.attempts.Add(1)
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-time.After(hangGuard):
		}
	}
	select {
	case s := <-f.free:
		return &fakeLease{f: f, id: id, slot: s}, nil
	default:
		return nil, fmt.Errorf("lease for %s: %w", id, slots.ErrNoFreeSlot)
	}
}

type fakeLease struct {
	f    *fakeRunner
	id   string
	slot int
	once sync.Once
}

func (l *fakeLease) Slot() int { return l.slot }
func (l *fakeLease) Release()  { l.once.Do(func() { l.f.free <- l.slot }) }

// fakeRun is one running build: send its outcome on end to finish it.
type fakeRun struct {
	id  string
	end chan api.Outcome
}

func (l *fakeLease) Run(ctx context.Context, _ *build.Checked, _ io.Writer) (*build.Result, error) {
	defer l.Release()
	r := &fakeRun{id: l.id, end: make(chan api.Outcome, 1)}
	l.f.runs <- r
	res := &build.Result{Slot: l.slot, Started: time.Now()}
	select {
	case res.Outcome = <-r.end:
	case <-ctx.Done():
		res.Outcome = api.Outcome{Status: api.StatusCancelled, Error: "cancelled"}
	}
	res.Finished = time.Now()
	return res, nil
}

// hangGuard bounds every wait of these tests: a queue that never moves
// fails the test instead of hanging it.
const hangGuard = 10 * time.Second

// nextRun waits for the next build the runner starts.
func nextRun(t *testing.T, f *fakeRunner) *fakeRun {
	t.Helper()
	select {
	case r := <-f.runs:
		return r
	case <-time.After(hangGuard):
		t.Fatal("no build started")
		return nil
	}
}

// settled does what the dispatcher does on a wake-up, at once, and checks
// that it started nothing: running builds are still running and queued
// ones still queued.
func settled(t *testing.T, d *Daemon, running, queued int) {
	t.Helper()
	d.startNext()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.running != running || len(d.queue) != queued {
		t.Fatalf("%d running and %d queued, want %d and %d", d.running, len(d.queue), running, queued)
	}
}

// newQueueDaemon is a daemon with slots slots and maxJobs jobs over a
// fake runner, dispatching until the test ends.
func newQueueDaemon(t *testing.T, slotCount, maxJobs int) (*Daemon, *fakeRunner) {
	t.Helper()
	cfg := config.Defaults()
	cfg.StateDir = t.TempDir()
	cfg.StartID, cfg.IDCount, cfg.IDsPerBuild = 0xE4000000, uint32(slotCount)*65536, 65536
	cfg.MaxJobs = maxJobs
	f := newFakeRunner(slotCount)
	d, err := New(Options{Config: &cfg, Scopes: noScopes{}, Runner: f, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.dispatch(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		d.shutdown()
		d.Close()
	})
	return d, f
}

var testPeer = &peer{name: "alice", uid: 1000, gid: 1000, allowed: true}

func submit(t *testing.T, d *Daemon, name string) string {
	t.Helper()
	b, err := d.submit(testPeer, &build.Request{Name: name, Args: []string{"/bin/true"}})
	if err != nil {
		t.Fatalf("submit %s: %v", name, err)
	}
	return b.ID
}

// final waits for build id's final record and reads it from the history.
func final(t *testing.T, d *Daemon, id string) *api.Build {
	t.Helper()
	d.mu.Lock()
	j := d.jobs[id]
	d.mu.Unlock()
	if j != nil {
		select {
		case <-j.done:
		case <-time.After(hangGuard):
			t.Fatalf("build %s did not end", id)
		}
	}
	b, err := d.store.Get(id)
	if err != nil {
		t.Fatalf("history of %s: %v", id, err)
	}
	return b
}

func position(d *Daemon, id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if j := d.jobs[id]; j != nil {
		return j.position
	}
	return -1
}

// Builds start in the order they were queued, one at a time with one job,
// and each waits in its place.
func TestQueueOrder(t *testing.T) {
	d, f := newQueueDaemon(t, 2, 1)
	ids := []string{submit(t, d, "a"), submit(t, d, "b"), submit(t, d, "c")}
	var started []string
	for i := range ids {
		r := nextRun(t, f)
		started = append(started, r.id)
		settled(t, d, 1, len(ids)-i-1)
		for k, id := range ids[i+1:] {
			if p := position(d, id); p != k+1 {
				t.Errorf("while %s runs, %s is at position %d, want %d", r.id, id, p, k+1)
			}
		}
		r.end <- api.Outcome{Status: api.StatusSucceeded}
		if b := final(t, d, r.id); b.Status != api.StatusSucceeded || b.Slot < 0 || b.Started.IsZero() {
			t.Errorf("record of %s = %+v, want succeeded on a slot", r.id, b)
		}
	}
	if !slices.Equal(started, ids) {
		t.Errorf("started %v, want the queue's order %v", started, ids)
	}
}

// A build waits while every slot is busy, even with jobs to spare, and
// starts as soon as one is free.
func TestQueueWaitsForASlot(t *testing.T) {
	d, f := newQueueDaemon(t, 1, 4)
	a, b := submit(t, d, "a"), submit(t, d, "b")
	ra := nextRun(t, f)
	settled(t, d, 1, 1)
	if p := position(d, b); p != 1 {
		t.Errorf("%s is at position %d while all slots are busy, want 1", b, p)
	}
	ra.end <- api.Outcome{Status: api.StatusFailed, ExitCode: 3, Error: "builder exited with status 3"}
	if got := final(t, d, a); got.Status != api.StatusFailed || got.ExitCode != 3 {
		t.Errorf("record of %s = %+v, want failed with status 3", a, got.Outcome)
	}
	if rb := nextRun(t, f); rb.id != b {
		t.Errorf("started %s, want %s", rb.id, b)
	}
}

// A slot held by another process (sdbuild run --local on the same state
// directory) holds the queue up only while it is held: no build of the
// daemon's own ends to say it is free, so the queue looks again itself.
func TestQueueRetriesSlotsHeldElsewhere(t *testing.T) {
	d, f := newQueueDaemon(t, 1, 4)
	other := <-f.free // held by someone else
	a := submit(t, d, "a")
	settled(t, d, 0, 1)
	f.free <- other // released, and nobody tells the daemon
	if ra := nextRun(t, f); ra.id != a {
		t.Errorf("started %s, want %s", ra.id, a)
	}
}

// While no slot is free, the queue looks again once a second however
// often it is woken meanwhile: each wake-up must not start a retry of
// its own that goes on for good.
func TestQueueRetriesOnce(t *testing.T) {
	d, f := newQueueDaemon(t, 1, 4)
	<-f.free // held by someone else, for good
	for i := range 8 {
		submit(t, d, fmt.Sprint("b", i)) // each wakes the queue
	}
	time.Sleep(100 * time.Millisecond)
	before := f.attempts.Load()
	time.Sleep(2500 * time.Millisecond)
	if n := f.attempts.Load() - before; n > 4 {
		t.Errorf("%d attempts to lease in 2.5 s with 8 wake-ups behind, want about 2", n)
	}
}

// Cancelling a queued build ends it at once without running it; the rest
// of the queue moves up. Cancelling a running build cancels its run.
func TestQueueCancel(t *testing.T) {
	d, f := newQueueDaemon(t, 2, 1)
	a, b, c := submit(t, d, "a"), submit(t, d, "b"), submit(t, d, "c")
	if ra := nextRun(t, f); ra.id != a {
		t.Fatalf("started %s, want %s", ra.id, a)
	}
	if err := d.cancelBuild(b, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := final(t, d, b); got.Status != api.StatusCancelled || got.Error != "cancelled while queued" || !got.Started.IsZero() ||
		got.Cause != api.CauseCancelled || got.CancelledBy != "alice" {
		t.Errorf("record of queued %s after cancel = %+v, want cancelled while queued, never started", b, got)
	}
	if p := position(d, c); p != 1 {
		t.Errorf("%s is at position %d after the build before it was cancelled, want 1", c, p)
	}
	if err := d.cancelBuild(a, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := final(t, d, a); got.Status != api.StatusCancelled || got.Cause != api.CauseCancelled || got.CancelledBy != "alice" {
		t.Errorf("record of running %s after cancel = %+v, want cancelled", a, got.Outcome)
	}
	if rc := nextRun(t, f); rc.id != c {
		t.Errorf("started %s after the cancels, want %s", rc.id, c)
	} else {
		rc.end <- api.Outcome{Status: api.StatusSucceeded}
	}
	if err := d.cancelBuild(a, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("cancel of a finished build = %v, want ErrNotFound", err)
	}
}

// Stopping the daemon refuses new builds and records the queued and the
// running ones as interrupted, once the running one has ended.
func TestQueueShutdown(t *testing.T) {
	d, f := newQueueDaemon(t, 1, 1)
	a, b := submit(t, d, "a"), submit(t, d, "b")
	nextRun(t, f)
	done := make(chan struct{})
	go func() { d.shutdown(); close(done) }()
	select {
	case <-done:
	case <-time.After(hangGuard):
		t.Fatal("shutdown did not end the running build")
	}
	for _, id := range []string{a, b} {
		if got := final(t, d, id); got.Status != api.StatusInterrupted || got.Finished.IsZero() || got.Cause != api.CauseDaemonStopped {
			t.Errorf("record of %s after shutdown = %+v, want interrupted and finished", id, got)
		}
	}
	if _, err := d.submit(testPeer, &build.Request{Args: []string{"/bin/true"}}); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("submit while stopping = %v, want ErrShuttingDown", err)
	}
}

// killScopes records which units Recover kills.
type killScopes struct {
	noScopes
	units  []string
	mu     sync.Mutex
	killed []string
}

func (k *killScopes) List(context.Context, string) ([]string, error) { return k.units, nil }
func (k *killScopes) Kill(_ context.Context, unit string) error {
	k.mu.Lock()
	k.killed = append(k.killed, unit)
	k.mu.Unlock()
	return nil
}

// After an unclean stop, Recover kills the build scopes systemd still has
// (and no other unit that merely starts with sdbuild-) and records the
// builds the history shows as queued or running as interrupted.
func TestRecover(t *testing.T) {
	cfg := config.Defaults()
	cfg.StateDir = t.TempDir()
	cfg.StartID, cfg.IDCount, cfg.IDsPerBuild = 0xE4000000, 65536, 65536
	scopes := &killScopes{units: []string{"sdbuild-0123456789ab.scope", "sdbuild-helper.scope", "sdbuild.slice"}}
	d, err := New(Options{Config: &cfg, Scopes: scopes, Runner: newFakeRunner(1), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	now := time.Now().UTC()
	old := []*api.Build{
		{ID: "0123456789ab", Slot: 0, Args: []string{"make"}, Created: now, Outcome: api.Outcome{Status: api.StatusRunning}},
		{ID: "0123456789ac", Slot: -1, Args: []string{"make"}, Created: now, Outcome: api.Outcome{Status: api.StatusQueued}},
		{ID: "0123456789ad", Slot: 0, Args: []string{"make"}, Created: now, Outcome: api.Outcome{Status: api.StatusSucceeded}},
	}
	if err := d.store.PutAll(old); err != nil {
		t.Fatal(err)
	}
	if err := d.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(scopes.killed, []string{"sdbuild-0123456789ab.scope"}) {
		t.Errorf("Recover killed %v, want only the build's scope", scopes.killed)
	}
	for id, want := range map[string]api.Status{"0123456789ab": api.StatusInterrupted, "0123456789ac": api.StatusInterrupted, "0123456789ad": api.StatusSucceeded} {
		b, err := d.store.Get(id)
		if err != nil || b.Status != want || (want == api.StatusInterrupted) != (b.Cause == api.CauseDaemonStopped) {
			t.Errorf("record of %s after Recover = %+v, %v; want %s", id, b, err, want)
		}
	}
}

// preparingRunner is a fakeRunner that keeps no prepared sandboxes but
// reports when it is told a build ended (preparer.builtOne).
type preparingRunner struct {
	*fakeRunner
	built chan struct{}
}

func (p *preparingRunner) claimPrepared(*build.Checked) (string, bool) { return "", false }
func (p *preparingRunner) dropPrepared(string)                         {}
func (p *preparingRunner) stalePrepared() (func() error, error) {
	return func() error { return nil }, nil
}
func (p *preparingRunner) keepPrepared(context.Context, *slog.Logger, int) {}
func (p *preparingRunner) discardPrepared()                                {}
func (p *preparingRunner) preparedCount() int                              { return 0 }
func (p *preparingRunner) builtOne()                                       { p.built <- struct{}{} }

// preparingDaemon is a daemon with one slot over a preparingRunner.
func preparingDaemon(t *testing.T) (*Daemon, *preparingRunner) {
	t.Helper()
	cfg := config.Defaults()
	cfg.StateDir = t.TempDir()
	cfg.StartID, cfg.IDCount, cfg.IDsPerBuild = 0xE4000000, 65536, 65536
	p := &preparingRunner{fakeRunner: newFakeRunner(1), built: make(chan struct{}, 1)}
	d, err := New(Options{Config: &cfg, Scopes: noScopes{}, Runner: p, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, p
}

// TestReplacementPreparedAfterFinalRecord: the sandbox that replaces a
// build's prepared one is started only once the build's final record is
// stored, off the path of its client's final event.
func TestReplacementPreparedAfterFinalRecord(t *testing.T) {
	d, p := preparingDaemon(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.dispatch(ctx)
	id := submit(t, d, "replaced")
	nextRun(t, p.fakeRunner).end <- api.Outcome{Status: api.StatusSucceeded}
	select {
	case <-p.built:
	case <-time.After(hangGuard):
		t.Fatal("the runner was never told the build ended")
	}
	b, err := d.store.Get(id)
	if err != nil || b.Status != api.StatusSucceeded {
		t.Errorf("when the replacement was started, the stored record of %s was %+v (%v), want it final", id, b, err)
	}
}
