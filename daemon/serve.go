package daemon

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"
)

// ServeOptions say how the daemon serves.
type ServeOptions struct {
	Listeners []net.Listener
	// RunnerListeners serve the runner service (gRPC) to a remote-
	// execution worker: sdbuild-runner.socket.
	RunnerListeners []net.Listener
	// IdleExit ends Serve after this long with no build and no client
	// (socket activation starts the daemon again on the next connection).
	IdleExit time.Duration
	// Watchdog, when non-zero, is systemd's WatchdogSec: the daemon pings
	// at half of it.
	Watchdog time.Duration
}

// Serve runs the API on the listeners and the build queue until ctx ends
// or the daemon has been idle for IdleExit, then shuts down: it stops
// accepting, records queued builds as interrupted, kills running builds,
// and waits until their slots are free and their records written.
func (d *Daemon) Serve(ctx context.Context, o ServeOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var conns sync.WaitGroup
	idle := newIdleTracker()
	srv := &http.Server{
		Handler: d.Handler(),
		// Each connection gets the channel ConnState closes when the server
		// is done with it (followers.go).
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return d.ConnContext(d.conns.open(ctx, c), c)
		},
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ConnState: func(c net.Conn, s http.ConnState) {
			idle.connState(c, s)
			d.conns.connState(c, s)
		},
	}
	go d.dispatch(ctx)
	if pp := d.prep; pp != nil {
		// Listed before any of ours is prepared, removed beside them: a
		// large tree a killed build left must not hold up the start.
		remove, err := pp.stalePrepared()
		go func() {
			if err == nil {
				err = remove()
			}
			if err != nil {
				d.log.Warn("an earlier daemon's prepared sandboxes", "err", err)
			}
		}()
		if d.prepared > 0 {
			go pp.keepPrepared(ctx, d.log, d.prepared)
		}
	}
	cctx, stopCollect := context.WithCancel(ctx)
	collected := make(chan struct{})
	go func() { defer close(collected); d.collectLoop(cctx) }() // keep-history, keep-logs, keep-build-dirs
	errc := make(chan error, len(o.Listeners)+len(o.RunnerListeners))
	var runner *grpc.Server
	if len(o.RunnerListeners) > 0 {
		runner = d.runnerServer()
	}
	for _, l := range o.RunnerListeners {
		conns.Add(1)
		go func() {
			defer conns.Done()
			if err := runner.Serve(l); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				errc <- err
			}
		}()
	}
	for _, l := range o.Listeners {
		conns.Add(1)
		go func() {
			defer conns.Done()
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	d.mu.Lock()
	d.updateStatusLocked()
	d.mu.Unlock()
	d.notify("READY=1")
	if o.Watchdog > 0 {
		go d.watchdog(ctx, o.Watchdog/2)
	}
	var idleC <-chan time.Time
	if o.IdleExit > 0 {
		t := time.NewTicker(o.IdleExit / 4)
		defer t.Stop()
		idleC = t.C
	}
	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err = <-errc:
			break loop
		case <-idleC:
			if d.idleFor(idle) >= o.IdleExit {
				d.log.Info("exiting after idle period", "idle", o.IdleExit)
				break loop
			}
		}
	}
	d.notify("STOPPING=1")
	// A collection under way ends before the history closes; it commits
	// a chunk at a time, so this waits for one chunk or one compaction.
	stopCollect()
	<-collected
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	srv.Shutdown(sctx)
	scancel()
	d.shutdown()
	if runner != nil {
		stopRunner(runner) // its calls ended with their builds
	}
	conns.Wait()
	return err
}

// shutdown refuses new builds, interrupts queued and running ones and
// waits for the running ones to end.
func (d *Daemon) shutdown() {
	d.mu.Lock()
	d.stopping = true
	for _, j := range d.queue {
		j.interrupted = true
		j.log.Close()
		d.finishLocked(j, nil, nil) // interrupted decides the record
	}
	d.queue = nil
	var done []chan struct{}
	for _, j := range d.jobs {
		j.interrupted = true
		j.cancel()
		done = append(done, j.done)
	}
	d.mu.Unlock()
	d.wg.Wait()
	for _, c := range done {
		<-c
	}
	if pp := d.prep; pp != nil {
		pp.discardPrepared()
	}
	if w, ok := d.runner.(interface{ wait() }); ok {
		w.wait() // builds that returned their results end their inits
	}
}

// idleFor is how long the daemon has had no build and no client.
func (d *Daemon) idleFor(it *idleTracker) time.Duration {
	d.mu.Lock()
	busy := len(d.jobs) > 0
	d.mu.Unlock()
	if busy {
		it.touch()
		return 0
	}
	return it.idle()
}

func (d *Daemon) watchdog(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.notify("WATCHDOG=1")
		}
	}
}

// idleTracker follows open client connections.
type idleTracker struct {
	mu    sync.Mutex
	open  int       // protected by mu
	since time.Time // protected by mu: last time open dropped to 0
}

func newIdleTracker() *idleTracker { return &idleTracker{since: time.Now()} }

func (it *idleTracker) connState(c net.Conn, s http.ConnState) {
	it.mu.Lock()
	defer it.mu.Unlock()
	switch s {
	case http.StateNew:
		it.open++
	case http.StateHijacked, http.StateClosed:
		it.open--
		if it.open == 0 {
			it.since = time.Now()
		}
	}
}

func (it *idleTracker) touch() {
	it.mu.Lock()
	it.since = time.Now()
	it.mu.Unlock()
}

func (it *idleTracker) idle() time.Duration {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.open > 0 {
		return 0
	}
	return time.Since(it.since)
}
