package build

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/sdbuild/sdbuild/sandbox"
)

// Limits that end a build early.
const (
	limitTimeout    = "timeout"
	limitSilent     = "max-silent-time"
	limitCancelled  = "cancelled"
	logChunkMaxSize = 64 << 10
)

// watch streams a build's log and kills the build when a limit fires.
type watch struct {
	p               *sandbox.Process
	timeout, silent time.Duration
	activity        chan struct{} // a chunk of output arrived
	done            chan struct{} // the build is over

	mu     sync.Mutex
	reason string // protected by mu: the limit that fired, if any
}

func newWatch(p *sandbox.Process, timeout, silent time.Duration) *watch {
	return &watch{p: p, timeout: timeout, silent: silent, activity: make(chan struct{}, 1), done: make(chan struct{})}
}

// pump copies the log to w until every writer (the whole build) is gone.
func (w *watch) pump(out io.Writer) {
	buf := make([]byte, logChunkMaxSize)
	for {
		n, err := w.p.Log.Read(buf)
		if n > 0 {
			out.Write(buf[:n])
			select {
			case w.activity <- struct{}{}:
			default:
			}
		}
		if err != nil {
			w.p.Log.Close()
			return
		}
	}
}

// enforce kills the build when ctx is cancelled or a limit passes. Timers,
// not polling: a silent build costs nothing until its limit.
func (w *watch) enforce(ctx context.Context) {
	var deadline, silence <-chan time.Time
	if w.timeout > 0 {
		t := time.NewTimer(w.timeout)
		defer t.Stop()
		deadline = t.C
	}
	var st *time.Timer
	if w.silent > 0 {
		st = time.NewTimer(w.silent)
		defer st.Stop()
		silence = st.C
	}
	for {
		select {
		case <-w.done:
			return
		case <-w.p.Exited():
			return
		case <-w.activity:
			if st != nil {
				st.Reset(w.silent)
			}
			continue
		case <-ctx.Done():
			w.fire(limitCancelled)
		case <-deadline:
			w.fire(limitTimeout)
		case <-silence:
			w.fire(limitSilent)
		}
		return
	}
}

func (w *watch) fire(reason string) {
	w.mu.Lock()
	if w.reason == "" {
		w.reason = reason
	}
	w.mu.Unlock()
	w.p.Kill()
}

// stop ends enforcement and returns the limit that fired, if any.
func (w *watch) stop() string {
	close(w.done)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reason
}

func (w *watch) limit(reason string) time.Duration {
	if reason == limitSilent {
		return w.silent
	}
	return w.timeout
}
