package daemon

import (
	"context"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// A build's client is still on the machine's CPUs when it has read the
// final event: it decodes it, closes its connection and exits, and a Go
// process's exit is not cheap (its threads, its address space). The
// teardown of the build's sandbox (init's exit, its namespaces, its scope)
// and the sandbox that replaces the prepared one the build took (an
// init's start, its namespaces and a scope) would compete with that for
// the same CPUs, and the one who waits for the client (a shell, a build
// tool) would wait longer. So the daemon starts each once every client
// that followed the build has exited, or followerWait after it began to
// wait, whichever comes first: a client that lives on (an API client that
// keeps its connection open, or goes on after closing it) delays nothing
// for longer than that. A client whose process the daemon cannot watch
// (one in another pid namespace, or a kernel before 5.3) is taken to be
// gone when its connection closes.
const followerWait = 50 * time.Millisecond

// connCues closes a channel when its connection closes: the cue a
// follower's end gives (http.Server.ConnState).
type connCues struct {
	mu sync.Mutex
	m  map[net.Conn]chan struct{} // protected by mu
}

type connClosedKey struct{}

// open makes c's channel and puts it in ctx (http.Server.ConnContext).
func (cc *connCues) open(ctx context.Context, c net.Conn) context.Context {
	ch := make(chan struct{})
	cc.mu.Lock()
	if cc.m == nil {
		cc.m = map[net.Conn]chan struct{}{}
	}
	cc.m[c] = ch
	cc.mu.Unlock()
	return context.WithValue(ctx, connClosedKey{}, (<-chan struct{})(ch))
}

// connState closes c's channel once the server is done with c.
func (cc *connCues) connState(c net.Conn, s http.ConnState) {
	if s != http.StateClosed && s != http.StateHijacked {
		return
	}
	cc.mu.Lock()
	ch, ok := cc.m[c]
	delete(cc.m, c)
	cc.mu.Unlock()
	if ok {
		close(ch)
	}
}

// connClosed is the channel closed when the connection of a request's
// context closes; nil for a request not served by Serve.
func connClosed(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(connClosedKey{}).(<-chan struct{})
	return ch
}

// follower is a client following a build: the cue its connection gives
// on close, and the process that connected.
type follower struct {
	closed <-chan struct{}
	pid    int32 // 0: not one the daemon can see (peer.pid)
}

// follow counts the client of ctx among j's followers, until it is gone.
// Followers whose connections have closed are dropped, so that a build
// watched by many short requests keeps no list of them.
func (d *Daemon) follow(ctx context.Context, j *job) {
	ch := connClosed(ctx)
	if ch == nil {
		return
	}
	f := follower{closed: ch}
	if p, _ := ctx.Value(ctxKey{}).(*peer); p != nil {
		f.pid = p.pid
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	j.followers = slices.DeleteFunc(j.followers, func(f follower) bool {
		select {
		case <-f.closed:
			return true
		default:
			return false
		}
	})
	if !slices.Contains(j.followers, f) { // a connection that asks again
		j.followers = append(j.followers, f)
	}
}

// clientsGone is closed once every client following j when it is first
// asked for is gone (awaitGone): one wait a build, for both the teardown
// of its sandbox and the replacement of the prepared one it took.
func (d *Daemon) clientsGone(j *job) <-chan struct{} {
	j.clientsGoneOnce.Do(func() {
		j.clientsGone = make(chan struct{})
		d.mu.Lock()
		fs := slices.Clone(j.followers) // follow edits the list in place
		d.mu.Unlock()
		go func() {
			d.awaitGone(fs)
			close(j.clientsGone)
		}()
	})
	return j.clientsGone
}

// awaitGone waits until every follower in fs has exited (or closed its
// connection, when its process cannot be watched), or d.followerWait has
// passed.
func (d *Daemon) awaitGone(fs []follower) {
	if len(fs) == 0 {
		return
	}
	deadline := time.Now().Add(d.followerWait)
	t := time.NewTimer(d.followerWait)
	defer t.Stop()
	for _, f := range fs {
		if f.pid > 0 && awaitExit(f.pid, deadline) {
			continue
		}
		select {
		case <-f.closed:
		case <-t.C:
			return
		}
	}
}
