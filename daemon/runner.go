package daemon

import (
	"context"
	"io"

	"github.com/sdbuild/sdbuild/build"
)

// Runner is what the queue drives: it checks a request before it is
// queued, leases a UID slot when the build's turn comes, and runs the
// build on it to its end (start, wait and outcome); cancelling the run's
// context cancels the build. The daemon's own is the build runner over its
// slot pool (see builds); the queue's tests drive a fake.
type Runner interface {
	// Check validates a request without side effects; its errors wrap
	// build.ErrBadRequest or build.ErrUnavailable.
	Check(req *build.Request) (*build.Checked, error)
	// Lease takes a UID slot for build id; it fails with an error
	// wrapping slots.ErrNoFreeSlot when every slot is busy, and the
	// build then stays queued.
	Lease(id string) (Lease, error)
}

// Lease is a slot taken for one build: Run uses it, Release gives it back
// unused.
type Lease interface {
	Slot() int
	// Run runs the build to its end and frees the slot. A Result reports
	// a build that ran, however it ended; an error, one that sdbuild could
	// not run.
	Run(ctx context.Context, c *build.Checked, log io.Writer) (*build.Result, error)
	Release()
}

// builds is the build runner as the queue's Runner, with the sandboxes
// it keeps prepared ahead of demand (see prepared.go).
type builds struct {
	r *build.Runner
	prepared
}

// wait waits for what finished builds still do (build.Runner.Wait).
func (b *builds) wait() { b.r.Wait() }

func (b *builds) Check(req *build.Request) (*build.Checked, error) { return b.r.Check(req) }

// Lease leases a slot for build id, in the sandbox prepared for it if it
// was given one when it was queued.
func (b *builds) Lease(id string) (Lease, error) {
	if pr := b.claimedFor(id); pr != nil {
		l, err := b.r.LeasePrepared(pr)
		if err != nil {
			return nil, err // pr stays the build's for its next try
		}
		b.leased(id)
		return l, nil
	}
	l, err := b.r.Lease(id)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return l, nil
}
