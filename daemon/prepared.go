package daemon

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sdbuild/sdbuild/build"
)

// PreparedSandboxes is how many sandboxes sdbuildd keeps prepared ahead
// of demand: init started, the common root built, the scope started, the
// build id chosen, waiting only for a request's inputs and argv. Each is
// one idle process and one scope; none holds a slot. A burst of more
// builds than this runs the rest the ordinary way while more are prepared.
const PreparedSandboxes = 4

// prepareRetry is how long the daemon waits after a sandbox could not be
// prepared before it tries again; builds run the ordinary way meanwhile.
const prepareRetry = 5 * time.Second

// preparer is a Runner that keeps sandboxes prepared ahead of demand (the
// daemon's own; the queue's tests drive runners without).
type preparer interface {
	// claimPrepared gives a checked build a prepared sandbox, if one is
	// free and the build can use it, and returns its build id.
	claimPrepared(c *build.Checked) (id string, ok bool)
	// dropPrepared discards the sandbox claimed for build id if it is
	// still unused (a build cancelled or refused before it ran), and has
	// it replaced.
	dropPrepared(id string)
	// stalePrepared lists what an earlier daemon's prepared sandboxes
	// left and returns what removes it (build.Runner.StalePrepared).
	stalePrepared() (remove func() error, err error)
	// keepPrepared keeps n free ones until ctx ends.
	keepPrepared(ctx context.Context, log *slog.Logger, n int)
	// discardPrepared discards every free one and stops preparing.
	discardPrepared()
	// preparedCount is how many are prepared and not yet any build's.
	preparedCount() int
	// builtOne says a build ended: time to replace what it took.
	builtOne()
}

// prepared is the pool of a builds runner.
type prepared struct {
	mu       sync.Mutex
	free     []*build.Prepared          // protected by mu: no build's yet
	claimed  map[string]*build.Prepared // protected by mu: a queued build's, not leased yet
	starting int                        // protected by mu: being prepared
	stopped  bool                       // protected by mu
	wake     chan struct{}              // one was claimed, or preparing one ended
	stop     chan struct{}              // closed by discardPrepared
	inflight sync.WaitGroup             // prepareOne calls
}

var _ preparer = (*builds)(nil)

func (b *builds) claimPrepared(c *build.Checked) (string, bool) {
	if !b.r.Preparable(c) {
		return "", false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// One whose init has gone (its scope stopped by hand, say) is no use:
	// it is discarded, and the next one tried.
	for len(b.free) > 0 && !b.free[0].Alive() {
		go b.free[0].Discard()
		b.free = b.free[1:]
		b.kickLocked()
	}
	if len(b.free) == 0 {
		return "", false
	}
	pr := b.free[0]
	b.free = b.free[1:]
	if b.claimed == nil {
		b.claimed = map[string]*build.Prepared{}
	}
	b.claimed[pr.ID()] = pr
	// Not replaced yet: preparing one now would compete with this build
	// for the CPUs and for systemd (whose scope start waits in the kernel
	// for an RCU grace period, holding up the build's own calls), on the
	// build's critical path. builtOne replaces it once the build is done.
	return pr.ID(), true
}

// claimedFor is the sandbox claimed for build id, or nil.
func (b *builds) claimedFor(id string) *build.Prepared {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.claimed[id]
}

// leased says that build id's lease has its sandbox now.
func (b *builds) leased(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.claimed, id)
}

func (b *builds) dropPrepared(id string) {
	b.mu.Lock()
	pr := b.claimed[id]
	delete(b.claimed, id)
	b.mu.Unlock()
	if pr != nil {
		// Discarding ends the scope, which takes the daemon's lock that
		// the caller may hold. No build runs in its place, so it is
		// replaced at once.
		go func() {
			pr.Discard()
			b.builtOne()
		}()
	}
}

func (b *builds) builtOne() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.kickLocked()
}

func (b *builds) preparedCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.free)
}

func (b *builds) kickLocked() {
	if b.wake == nil {
		b.wake, b.stop = make(chan struct{}, 1), make(chan struct{})
	}
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *builds) stalePrepared() (func() error, error) { return b.r.StalePrepared() }

func (b *builds) keepPrepared(ctx context.Context, log *slog.Logger, n int) {
	b.mu.Lock()
	b.kickLocked()
	wake, stop := b.wake, b.stop
	b.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			b.discardPrepared()
			return
		case <-stop:
			return
		case <-wake:
		}
		b.mu.Lock()
		for !b.stopped && len(b.free)+b.starting < n {
			b.starting++
			b.inflight.Add(1)
			go b.prepareOne(ctx, log)
		}
		b.mu.Unlock()
	}
}

func (b *builds) prepareOne(ctx context.Context, log *slog.Logger) {
	defer b.inflight.Done()
	pr, err := b.r.Prepare(ctx, build.NewID())
	if err != nil {
		log.Warn("prepare a sandbox ahead of demand; builds start the ordinary way meanwhile", "err", err)
		select {
		case <-time.After(prepareRetry):
		case <-ctx.Done():
		case <-b.stop:
		}
	}
	b.mu.Lock()
	b.starting--
	if pr != nil && b.stopped {
		b.mu.Unlock()
		pr.Discard()
		return
	}
	if pr != nil {
		b.free = append(b.free, pr)
	}
	b.kickLocked()
	b.mu.Unlock()
}

// discardPrepared also waits for the ones being prepared, and discards
// them: when it returns no prepared sandbox is left.
func (b *builds) discardPrepared() {
	b.mu.Lock()
	if !b.stopped {
		b.kickLocked() // makes stop
		close(b.stop)
	}
	b.stopped = true
	free := b.free
	b.free = nil
	b.mu.Unlock()
	for _, pr := range free {
		pr.Discard()
	}
	b.inflight.Wait()
}
