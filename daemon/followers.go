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
// process's exit is not cheap. The sandbox that replaces the prepared one
// the build took (an init's start, its namespaces and a scope) would
// compete with that for the same CPUs, so the daemon starts it once
// every client that followed the build has closed its connection, or
// followerWait after the build was recorded, whichever comes first: a
// client that keeps its connection open (HTTP keep-alive) delays nothing
// for longer than that.
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

// follow counts the client of ctx among j's followers, until its
// connection closes. Followers already gone are dropped, so that a build
// watched by many short requests keeps no list of them.
func (d *Daemon) follow(ctx context.Context, j *job) {
	ch := connClosed(ctx)
	if ch == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	j.followers = slices.DeleteFunc(j.followers, func(f <-chan struct{}) bool {
		select {
		case <-f:
			return true
		default:
			return false
		}
	})
	if !slices.Contains(j.followers, ch) { // a connection that asks again
		j.followers = append(j.followers, ch)
	}
}

// awaitFollowers waits until every client that followed j has closed its
// connection, or d.followerWait has passed.
func (d *Daemon) awaitFollowers(j *job) {
	d.mu.Lock()
	chs := j.followers
	d.mu.Unlock()
	if len(chs) == 0 {
		return
	}
	t := time.NewTimer(d.followerWait)
	defer t.Stop()
	for _, ch := range chs {
		select {
		case <-ch:
		case <-t.C:
			return
		}
	}
}
