package daemon

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
)

// followerDaemon serves a daemon whose runner reports builtOne, and
// returns it with its socket.
func followerDaemon(t *testing.T) (*Daemon, *preparingRunner, string) {
	t.Helper()
	d, p := preparingDaemon(t)
	return d, p, serving(t, d)
}

// followToEnd submits a build over a connection of its own, ends it, and
// reads its events up to the final one, leaving the connection open.
// It returns the connection and the build's id.
func followToEnd(t *testing.T, sock string, p *preparingRunner) (net.Conn, string) {
	t.Helper()
	body := `{"args":["/bin/true"]}`
	c, br := request(t, sock, fmt.Sprintf("POST %s?follow=true HTTP/1.1\r\nHost: sdbuild\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", api.PathBuilds, len(body), body))
	nextRun(t, p.fakeRunner).end <- api.Outcome{Status: api.StatusSucceeded}
	return c, toFinished(t, br)
}

// request sends req over a connection of its own to sock, closed when the
// test ends, and returns it with a reader of the answer.
func request(t *testing.T, sock, req string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(hangGuard))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	return c, bufio.NewReader(c)
}

// toFinished reads an event stream up to its final event and returns the
// id of the build it names.
func toFinished(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var id string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read events: %v", err)
		}
		if i := strings.Index(line, `"id":"`); id == "" && i >= 0 {
			id = line[i+6 : i+6+strings.IndexByte(line[i+6:], '"')]
		}
		if strings.Contains(line, `"type":"finished"`) {
			return id
		}
	}
}

// recorded waits until build id's final record is stored and the daemon
// has let go of it: what the replacement of its sandbox waited for
// before.
func recorded(t *testing.T, d *Daemon, id string) {
	t.Helper()
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(time.Millisecond) {
		d.mu.Lock()
		_, live := d.jobs[id]
		d.mu.Unlock()
		if b, err := d.store.Get(id); !live && err == nil && b.Status.Finished() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("build %s was never recorded final", id)
		}
	}
}

// The sandbox that replaces a build's is started once the client that
// followed the build has closed its connection, not while it exits.
func TestReplacementAwaitsFollower(t *testing.T) {
	d, p, sock := followerDaemon(t)
	d.followerWait = hangGuard // only the close may release it here
	c, id := followToEnd(t, sock, p)
	replacedOnClose(t, d, p, c, id, "its follower")
}

// replacedOnClose checks that the replacement of build id's sandbox waits,
// once the build is recorded, until who, following it on c, closes c.
func replacedOnClose(t *testing.T, d *Daemon, p *preparingRunner, c net.Conn, id, who string) {
	t.Helper()
	recorded(t, d, id)
	select {
	case <-p.built:
		t.Fatalf("build %s: its sandbox's replacement was started while %s was still connected", id, who)
	case <-time.After(100 * time.Millisecond):
	}
	c.Close()
	select {
	case <-p.built:
	case <-time.After(hangGuard):
		t.Fatalf("build %s: no replacement after %s closed its connection", id, who)
	}
}

// A follower that keeps its connection open (HTTP keep-alive) holds the
// replacement up for followerWait, and no longer.
func TestReplacementFollowerWaitBounded(t *testing.T) {
	d, p, sock := followerDaemon(t)
	d.followerWait = 100 * time.Millisecond
	start := time.Now() // before the build ends, so the wait comes after it
	_, id := followToEnd(t, sock, p)
	select {
	case <-p.built:
	case <-time.After(hangGuard):
		t.Fatalf("build %s: no replacement while its follower kept its connection open", id)
	}
	if waited := time.Since(start); waited < d.followerWait {
		t.Errorf("build %s: replacement %v after the submission, before followerWait (%v) had passed: its follower was not counted", id, waited, d.followerWait)
	}
}

// A client that follows a build it did not submit (GET its events) holds
// the replacement up as its submitter would.
func TestReplacementAwaitsEventsFollower(t *testing.T) {
	d, p, sock := followerDaemon(t)
	d.followerWait = hangGuard // only the close may release it here
	id := submit(t, d, "followed")
	run := nextRun(t, p.fakeRunner)
	c, br := request(t, sock, "GET "+strings.Replace(api.PathEvents, "{id}", id, 1)+" HTTP/1.1\r\nHost: sdbuild\r\n\r\n")
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(time.Millisecond) {
		d.mu.Lock()
		n := len(d.jobs[id].followers)
		d.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("build %s: its events' client was never counted as a follower", id)
		}
	}
	run.end <- api.Outcome{Status: api.StatusSucceeded}
	toFinished(t, br)
	replacedOnClose(t, d, p, c, id, "a client following its events")
}
