package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/history"
	"github.com/sdbuild/sdbuild/sandbox"
	"github.com/sdbuild/sdbuild/scope"
	"github.com/sdbuild/sdbuild/slots"
)

// Scopes is what the daemon needs of systemd: scope.Manager, over one
// D-Bus connection for the daemon's life.
type Scopes interface {
	Start(ctx context.Context, s scope.Spec) (*scope.Scope, error)
	Kill(ctx context.Context, name string) error
	List(ctx context.Context, pattern string) ([]string, error)
}

// Options configure a Daemon.
type Options struct {
	Config *config.Config
	Scopes Scopes
	Log    *slog.Logger
	// Notify sends sd_notify messages (READY=1, STATUS=…); nil sends none.
	Notify func(state string)
	// Unusable, when set, is why this host cannot sandbox builds (a user's
	// daemon where unprivileged user namespaces are disabled): the daemon
	// serves its history but refuses every build with it.
	Unusable error
	// Runner, when set, runs the builds instead of the build runner over
	// the daemon's slot pool: the queue's tests use a fake.
	Runner Runner
	// Prepared is how many sandboxes to keep prepared ahead of demand
	// (PreparedSandboxes; 0: none).
	Prepared int
}

// Daemon runs builds for clients.
type Daemon struct {
	cfg    *config.Config
	scopes Scopes
	log    *slog.Logger
	notify func(string)
	pool   *slots.Pool
	runner Runner
	prep   preparer // runner's sandboxes prepared ahead of demand; nil when it has none
	store  *history.Store
	logDir string
	since  time.Time

	wake chan struct{} // a slot or job may have become free
	// retrying: a look at the slots again is due (queue.go, noSlotRetry).
	retrying atomic.Bool

	mu       sync.Mutex
	jobs     map[string]*job // protected by mu: queued and running builds
	queue    []*job          // protected by mu: FIFO of queued builds
	running  int             // protected by mu
	stopping bool            // protected by mu
	prepared int             // sandboxes to keep prepared
	// preparedProps are the scope properties of a build that sets none:
	// the prepared sandboxes' scopes start with them.
	preparedProps []string
	// describers describe a prepared sandbox's scope as its build's, by
	// build id, until the scope ends. protected by mu
	describers map[string]func(*build.Request)
	wg         sync.WaitGroup // running builds

	collectMu sync.Mutex // one gc at a time (gc.go)
	conns     connCues   // closes when each client connection closes (followers.go)
	// followerWait bounds how long the teardown of a build's sandbox and
	// the replacement of the prepared one it took wait for the build's
	// followers (followers.go).
	followerWait time.Duration
	metrics      metrics // protected by mu: builds since start (metrics.go)
}

// New opens the daemon's state: slot pool, history, log directory.
func New(opt Options) (*Daemon, error) {
	cfg := opt.Config
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opt.Notify == nil {
		opt.Notify = func(string) {}
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory %s: %w", cfg.StateDir, err)
	}
	so := cfg.SlotOptions()
	so.Log = opt.Log // kills of processes holding a slot's ids, quarantines
	// The scan reads the daemon's own inits (prepared, and other slots'
	// builds) by their leaders alone, as it reads the daemon itself.
	so.OwnCode = sandbox.IsInit
	pool, err := slots.Open(so)
	if err != nil {
		return nil, err
	}
	store, err := history.Open(filepath.Join(cfg.StateDir, "history.db"))
	if err != nil {
		pool.Close()
		return nil, err
	}
	d := &Daemon{
		cfg: cfg, scopes: opt.Scopes, log: opt.Log, notify: opt.Notify, pool: pool, store: store,
		logDir: filepath.Join(cfg.StateDir, "logs"), since: time.Now(),
		wake: make(chan struct{}, 1), jobs: map[string]*job{}, prepared: opt.Prepared, followerWait: followerWait,
		describers: map[string]func(*build.Request){}, metrics: newMetrics(),
	}
	// A build that sets no scope properties of its own gets the defaults
	// and caps: the prepared sandboxes' scopes start with those, so that
	// such builds can take one.
	if d.preparedProps, err = preparedProperties(&cfg.Ops); err != nil {
		d.Close()
		return nil, err
	}
	if d.runner = opt.Runner; d.runner == nil {
		ropt := build.RunnerOptions(cfg)
		ropt.Pool, ropt.Place, ropt.Unusable = pool, d.place, opt.Unusable
		ropt.PreparedProperties = d.preparedProps
		// A build's record is final once its result is known and its
		// outputs copied; init's exit and the slot's release follow.
		ropt.BackgroundCleanup, ropt.Released = true, d.kick
		r, err := build.NewRunner(ropt)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.runner = &builds{r: r}
	}
	d.prep, _ = d.runner.(preparer)
	return d, nil
}

// Close releases the daemon's state. Builds must have ended (Shutdown).
func (d *Daemon) Close() error {
	d.pool.Close()
	return d.store.Close()
}

// kick wakes the dispatcher.
func (d *Daemon) kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// statusLineLocked is the sd_notify STATUS= line.
func (d *Daemon) statusLineLocked() string {
	free := d.freeSlotsLocked(len(d.pool.Quarantined()))
	return fmt.Sprintf("%d running, %d queued, %d slots free", d.running, len(d.queue), free)
}

// freeSlotsLocked is how many slots the daemon could lease now: neither
// held by its running builds nor quarantined.
func (d *Daemon) freeSlotsLocked(quarantined int) int {
	return max(d.cfg.Slots()-d.running-quarantined, 0)
}

func (d *Daemon) updateStatusLocked() {
	d.notify("STATUS=" + d.statusLineLocked())
}
