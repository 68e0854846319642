package daemon

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/buildlog"
	"github.com/sdbuild/sdbuild/internal/testutil"
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
// followed the build has exited, not while it exits: not when it has
// read the final event, nor when it has closed its connection.
func TestReplacementAwaitsFollowerExit(t *testing.T) {
	requirePidfd(t)
	d, p, sock := followerDaemon(t)
	d.followerWait = 10 * hangGuard // only the exit may release it here
	h := startFollower(t, sock, "")
	nextRun(t, p.fakeRunner).end <- api.Outcome{Status: api.StatusSucceeded}
	replacedOnExit(t, d, p, h, "its follower")
}

// replacedOnExit checks that the replacement of the sandbox of the build h
// followed waits, once the build is recorded, until h, which has closed
// its connection, exits.
func replacedOnExit(t *testing.T, d *Daemon, p *preparingRunner, h *followerProcess, who string) {
	t.Helper()
	id := h.finished(t)
	recorded(t, d, id)
	select {
	case <-p.built:
		t.Fatalf("build %s: its sandbox's replacement was started while %s, its connection closed, still ran", id, who)
	case <-time.After(100 * time.Millisecond):
	}
	h.exit(t)
	select {
	case <-p.built:
	case <-time.After(hangGuard):
		t.Fatalf("build %s: no replacement after %s exited", id, who)
	}
}

// requirePidfd skips a test of waiting for a process's exit where the
// kernel gives no pidfd (before Linux 5.3, or a seccomp filter refuses it):
// the daemon then waits for connections to close, tested apart.
func requirePidfd(t *testing.T) {
	t.Helper()
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		t.Skipf("no pidfd here (%v): the daemon falls back to the connection's close", err)
	}
	unix.Close(fd)
}

// A client whose process the daemon cannot watch is gone when its
// connection closes.
func TestAwaitFollowersUnwatchedClose(t *testing.T) {
	d := &Daemon{followerWait: 10 * hangGuard}
	closed := make(chan struct{})
	j := &job{followers: []follower{{closed: closed}}}
	done := make(chan struct{})
	gone := d.clientsGone(j)
	if d.clientsGone(j) != gone {
		t.Fatal("a second ask for the build's clients started a second wait")
	}
	go func() { <-gone; close(done) }()
	select {
	case <-done:
		t.Fatal("the wait ended before its follower's connection closed")
	case <-time.After(100 * time.Millisecond):
	}
	close(closed)
	select {
	case <-done:
	case <-time.After(hangGuard):
		t.Fatal("the wait goes on after its follower's connection closed")
	}
}

// A follower that lives on (this test's process), its connection open
// (HTTP keep-alive), holds the replacement up for followerWait, and no
// longer.
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
	requirePidfd(t)
	d, p, sock := followerDaemon(t)
	d.followerWait = 10 * hangGuard // only the exit may release it here
	id := submit(t, d, "followed")
	run := nextRun(t, p.fakeRunner)
	h := startFollower(t, sock, id)
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
	replacedOnExit(t, d, p, h, "a client following its events")
}

// followerEnv names, in the environment of this test binary run as a
// follower (startFollower), the daemon's socket, and followerIDEnv the
// build whose events it follows (empty: it submits one and follows it).
const (
	followerEnv   = "SDBUILD_TEST_FOLLOWER_SOCKET"
	followerIDEnv = "SDBUILD_TEST_FOLLOWER_BUILD"
)

func TestMain(m *testing.M) {
	if sock := os.Getenv(followerEnv); sock != "" {
		os.Exit(runFollower(sock, os.Getenv(followerIDEnv)))
	}
	os.Exit(m.Run())
}

// runFollower is the follower process: it follows a build to its final
// event, prints the build's id, closes its connection and exits once its
// stdin ends.
func runFollower(sock, id string) int {
	c, err := net.Dial("unix", sock)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c.SetDeadline(time.Now().Add(hangGuard))
	req := "GET " + strings.Replace(api.PathEvents, "{id}", id, 1) + " HTTP/1.1\r\nHost: sdbuild\r\n\r\n"
	if id == "" {
		body := `{"args":["/bin/true"]}`
		req = fmt.Sprintf("POST %s?follow=true HTTP/1.1\r\nHost: sdbuild\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", api.PathBuilds, len(body), body)
	}
	if _, err := io.WriteString(c, req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			fmt.Fprintln(os.Stderr, "read events:", err)
			return 1
		}
		if i := strings.Index(line, `"id":"`); id == "" && i >= 0 {
			id = line[i+6 : i+6+strings.IndexByte(line[i+6:], '"')]
		}
		if strings.Contains(line, `"type":"finished"`) {
			break
		}
	}
	c.Close()
	fmt.Println(id)
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// followerProcess is this test binary run as a follower of a build.
type followerProcess struct{ *testutil.Helper }

// startFollower starts a process that follows build id (empty: one it
// submits) on the daemon at sock; it is killed when the test ends.
func startFollower(t *testing.T, sock, id string) *followerProcess {
	t.Helper()
	return &followerProcess{testutil.StartHelper(t, followerEnv+"="+sock, followerIDEnv+"="+id)}
}

// finished waits until the follower has read the final event and closed
// its connection, and returns the id of the build it followed.
func (h *followerProcess) finished(t *testing.T) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		line, _ := h.Stdout.ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case id := <-got:
		if id == "" {
			t.Fatal("the follower ended without naming its build")
		}
		return id
	case <-time.After(hangGuard):
		t.Fatal("the follower never reached its build's final event")
	}
	return ""
}

// exit ends the follower and waits until it has.
func (h *followerProcess) exit(t *testing.T) {
	t.Helper()
	h.Stdin.Close()
	if err := h.Cmd.Wait(); err != nil {
		t.Fatalf("follower: %v", err)
	}
}

// A build's sandbox is torn down (its placement ended, its init gone,
// its slot released) once the clients that followed it have exited,
// unless a build waits for a slot.
func TestTeardownLingersForFollowers(t *testing.T) {
	requirePidfd(t)
	const id = "0123456789ab"
	lg, err := buildlog.Create(t.TempDir(), id, "")
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	client := exec.Command("sleep", "60") // a client, its connection closed, still running
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Process.Kill(); client.Wait() })
	closed := make(chan struct{})
	close(closed)
	j := &job{id: id, log: lg, changed: make(chan struct{}),
		b:         &api.Build{ID: id, Slot: 0, Outcome: api.Outcome{Status: api.StatusRunning}},
		followers: []follower{{closed: closed, pid: int32(client.Process.Pid)}}}
	d := &Daemon{scopes: elsewhereScopes{}, jobs: map[string]*job{id: j}, followerWait: 10 * hangGuard}
	pl, err := d.place(context.Background(), id, 4242, &build.Request{})
	if err != nil {
		t.Fatal(err)
	}
	pl.End()
	lingered := func() <-chan struct{} {
		done := make(chan struct{})
		go func() { pl.Linger(); close(done) }()
		return done
	}
	d.queue = []*job{{id: "fedcba987654"}}
	select {
	case <-lingered():
	case <-time.After(hangGuard):
		t.Fatal("the teardown waited for a client while a build waited for a slot")
	}
	d.queue = nil
	done := lingered()
	select {
	case <-done:
		t.Fatal("the teardown went ahead while the build's client still ran")
	case <-time.After(100 * time.Millisecond):
	}
	client.Process.Kill()
	select {
	case <-done:
	case <-time.After(hangGuard):
		t.Fatal("the teardown still waits after the build's client exited")
	}
}
