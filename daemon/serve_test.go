package daemon

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/buildlog"
	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/scope"
)

// noScopes stands in for systemd where no build runs.
type noScopes struct{}

var errNoSystemd = errors.New("no systemd in this test")

func (noScopes) Start(context.Context, scope.Spec) (*scope.Scope, error) { return nil, errNoSystemd }
func (noScopes) Kill(context.Context, string) error                      { return errNoSystemd }
func (noScopes) List(context.Context, string) ([]string, error)          { return nil, nil }

// notes records sd_notify messages.
type notes struct {
	mu  sync.Mutex
	msg []string
}

func (n *notes) notify(s string) { n.mu.Lock(); n.msg = append(n.msg, s); n.mu.Unlock() }

func (n *notes) all() []string { n.mu.Lock(); defer n.mu.Unlock(); return slices.Clone(n.msg) }

func newTestDaemon(t *testing.T, n *notes) *Daemon {
	t.Helper()
	cfg := config.Defaults()
	cfg.StateDir = t.TempDir()
	cfg.StartID, cfg.IDCount, cfg.IDsPerBuild = 0xE4000000, 2*65536, 65536
	d, err := New(Options{Config: &cfg, Scopes: noScopes{}, Notify: n.notify, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Socket-activated and idle: the daemon says it is ready, keeps the
// watchdog fed, and exits once nothing has happened for IdleExit.
func TestServeIdleExitAndWatchdog(t *testing.T) {
	var n notes
	d := newTestDaemon(t, &n)
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "sock"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- d.Serve(context.Background(), ServeOptions{Listeners: []net.Listener{l}, IdleExit: 200 * time.Millisecond, Watchdog: 40 * time.Millisecond})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve = %v, want nil after the idle period", err)
		}
	case <-time.After(30 * time.Second): // a hang guard, not a measurement
		t.Fatal("Serve did not exit although idle")
	}
	got := n.all()
	for _, want := range []string{"STATUS=0 running, 0 queued, 2 slots free", "READY=1", "WATCHDOG=1", "STOPPING=1"} {
		if !slices.Contains(got, want) {
			t.Errorf("sd_notify messages %q lack %q", got, want)
		}
	}
	if i, j := slices.Index(got, "READY=1"), slices.Index(got, "STOPPING=1"); i > j {
		t.Errorf("STOPPING=1 came before READY=1: %q", got)
	}
}

// Without IdleExit the daemon serves until it is told to stop.
func TestServeStopsOnContext(t *testing.T) {
	var n notes
	d := newTestDaemon(t, &n)
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "sock"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, ServeOptions{Listeners: []net.Listener{l}}) }()
	// It answers while it runs.
	c := statusOver(t, l.Addr().String())
	if !strings.Contains(c, `"slots":2`) {
		t.Errorf("status = %s", c)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v after cancel", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not stop")
	}
}

// statusOver fetches /v1/status over the socket at path.
func statusOver(t *testing.T, path string) string {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /v1/status HTTP/1.1\r\nHost: sdbuild\r\nConnection: close\r\n\r\n")
	b, _ := io.ReadAll(c)
	return string(b)
}

// Where builds cannot be sandboxed (a user's daemon on a host without
// unprivileged user namespaces), the daemon still answers, and refuses
// every build with the reason: HTTP 503, code unavailable.
func TestServeRefusesBuildsWhenUnusable(t *testing.T) {
	cfg := config.Defaults()
	cfg.StateDir = t.TempDir()
	cfg.StartID, cfg.IDCount, cfg.IDsPerBuild = 0xE4000000, 2*65536, 65536
	why := errors.New("unprivileged user namespaces are disabled: kernel.unprivileged_userns_clone = 0")
	d, err := New(Options{Config: &cfg, Scopes: noScopes{}, Unusable: why, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sock := serving(t, d)

	_, err = api.NewClient(sock).Submit(context.Background(), &api.SubmitRequest{Args: []string{"/bin/true"}})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeUnavailable || !strings.Contains(ae.Message, "kernel.unprivileged_userns_clone = 0") {
		t.Fatalf("Submit = %v, want an unavailable error naming the setting", err)
	}
	if c := statusOver(t, sock); !strings.Contains(c, "200 OK") {
		t.Errorf("status while unusable: %s", c)
	}
}

// A finished build's log reaches an events client whole, however long: it
// goes out in chunks, not as one event larger than a client reads.
func TestEventsOfLongFinishedLog(t *testing.T) {
	var n notes
	d := newTestDaemon(t, &n)
	const id = "0123456789ab"
	now := time.Now().UTC()
	if err := d.store.Put(&api.Build{ID: id, UID: uint32(os.Getuid()), Outcome: api.Outcome{Status: api.StatusSucceeded},
		Args: []string{"/bin/true"}, Created: now, Started: now, Finished: now}); err != nil {
		t.Fatal(err)
	}
	l, err := buildlog.Create(d.logDir, id, "")
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Repeat([]byte("x"), 1023)
	line = append(line, '\n')
	const lines = 20 << 10 // 20 MiB, beyond a client's 16 MiB event line
	for range lines {
		if _, err := l.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	sock := serving(t, d)

	var got int
	var final *api.Build
	err = api.NewClient(sock).Events(context.Background(), id, func(e *api.Event) error {
		got += len(e.Data)
		if e.Type == api.EventFinished {
			final = e.Build
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != lines*len(line) || final == nil || final.Status != api.StatusSucceeded {
		t.Errorf("events: %d bytes of log and final %+v, want %d bytes and succeeded", got, final, lines*len(line))
	}
}

// serving serves d on a fresh socket until the test ends and returns the
// socket's path.
func serving(t *testing.T, d *Daemon) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, ServeOptions{Listeners: []net.Listener{l}}) }()
	t.Cleanup(func() { cancel(); <-done })
	return sock
}

// A request body over api.MaxRequestBytes is refused as a bad request,
// before it is read to the end.
func TestSubmitBodyLimit(t *testing.T) {
	var n notes
	sock := serving(t, newTestDaemon(t, &n))
	big := &api.SubmitRequest{Args: []string{"/bin/true"}, Env: []string{"X=" + strings.Repeat("x", api.MaxRequestBytes)}}
	_, err := api.NewClient(sock).Submit(context.Background(), big)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeBadRequest || !strings.Contains(ae.Message, "too large") {
		t.Fatalf("Submit of a %d-byte body = %v, want a bad-request error", api.MaxRequestBytes, err)
	}
}

// A followed submission answers with the build's whole life on the one
// request: first the build as recorded, last its final record (the fake
// runner's builds have no unit, so no start is reported).
func TestSubmitFollowed(t *testing.T) {
	cfg := config.Defaults()
	cfg.StateDir = t.TempDir()
	cfg.StartID, cfg.IDCount, cfg.IDsPerBuild = 0xE4000000, 65536, 65536
	f := newFakeRunner(1)
	d, err := New(Options{Config: &cfg, Scopes: noScopes{}, Runner: f, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	sock := serving(t, d)
	go func() {
		select {
		case r := <-f.runs:
			r.end <- api.Outcome{Status: api.StatusSucceeded}
		case <-time.After(hangGuard):
		}
	}()
	var types []api.EventType
	var final *api.Build
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	b, err := api.NewClient(sock).SubmitFollow(ctx, &api.SubmitRequest{Args: []string{"/bin/true"}}, func(e *api.Event) error {
		types = append(types, e.Type)
		if e.Type == api.EventFinished {
			final = e.Build
		}
		return nil
	})
	if err != nil || b == nil {
		t.Fatalf("SubmitFollow = %+v, %v", b, err)
	}
	if want := []api.EventType{api.EventSubmitted, api.EventFinished}; !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	if final.ID != b.ID || final.Status != api.StatusSucceeded {
		t.Errorf("build %s: final %s %s; want the same build, succeeded", b.ID, final.ID, final.Status)
	}

	// On the wire: the submission's answer is the event stream itself.
	go func() {
		select {
		case r := <-f.runs:
			r.end <- api.Outcome{Status: api.StatusSucceeded}
		case <-time.After(hangGuard):
		}
	}()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	resp, err := hc.Post("http://sdbuild"+api.PathBuilds+"?follow=true", "application/json", strings.NewReader(`{"args":["/bin/true"]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusCreated || ct != api.ContentTypeEvents || len(lines) < 2 ||
		!strings.Contains(lines[0], `"type":"submitted"`) || !strings.Contains(lines[len(lines)-1], `"type":"finished"`) {
		t.Errorf("POST %s?follow=true: %s, %s:\n%s\nwant 201, %s, submitted first, finished last", api.PathBuilds, resp.Status, ct, body, api.ContentTypeEvents)
	}
}

// TestQueuedOnlyWhenWaiting: a followed build that starts at once is
// never reported queued (its client would print "waiting for a UID slot"
// for nothing); one that finds every slot taken is, with its place.
func TestQueuedOnlyWhenWaiting(t *testing.T) {
	cfg := config.Defaults()
	cfg.StateDir = t.TempDir()
	cfg.StartID, cfg.IDCount, cfg.IDsPerBuild = 0xE4000000, 65536, 65536
	f := newFakeRunner(1)
	// The dispatcher takes its time leasing each slot: the first build
	// stays queued, without waiting for anything, for that long.
	f.gate = make(chan struct{})
	d, err := New(Options{Config: &cfg, Scopes: noScopes{}, Runner: f, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	sock := serving(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	type followed struct {
		queued []int // positions reported
		err    error
	}
	follow := func() (chan struct{}, chan followed) {
		queued, done := make(chan struct{}, 8), make(chan followed, 1)
		go func() {
			var fo followed
			_, fo.err = api.NewClient(sock).SubmitFollow(ctx, &api.SubmitRequest{Args: []string{"/bin/true"}}, func(e *api.Event) error {
				if e.Type == api.EventSubmitted {
					queued <- struct{}{}
				}
				if e.Type == api.EventQueued {
					fo.queued = append(fo.queued, e.Position)
					queued <- struct{}{}
				}
				return nil
			})
			done <- fo
		}()
		return queued, done
	}
	lease := func() {
		t.Helper()
		select {
		case f.gate <- struct{}{}:
		case <-time.After(hangGuard):
			t.Fatal("no slot was leased")
		}
	}

	// A build whose slot is free.
	seen, done := follow()
	<-seen // submitted
	// Its stream has long looked at the queue when the lease goes through.
	time.Sleep(50 * time.Millisecond)
	lease()
	nextRun(t, f).end <- api.Outcome{Status: api.StatusSucceeded}
	if fo := <-done; fo.err != nil || len(fo.queued) != 0 {
		t.Errorf("build started at once: queued events at %v (%v), want none", fo.queued, fo.err)
	}

	// A build that finds the one slot taken.
	_, holderDone := follow()
	lease()
	holder := nextRun(t, f)
	seen, done = follow()
	<-seen  // submitted
	lease() // finds no slot free
	select {
	case <-seen:
	case <-time.After(hangGuard):
		t.Fatal("the build that found the slot taken was never reported queued")
	}
	holder.end <- api.Outcome{Status: api.StatusSucceeded}
	lease()
	nextRun(t, f).end <- api.Outcome{Status: api.StatusSucceeded}
	if fo := <-done; fo.err != nil || !slices.Equal(fo.queued, []int{1}) {
		t.Errorf("build that found the slot taken: queued events at %v (%v), want [1]", fo.queued, fo.err)
	}
	<-holderDone
}
