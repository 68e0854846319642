package sandbox

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// connPair returns the two ends of a control socket, ours non-blocking,
// closed when the test ends.
func connPair(t *testing.T) (ours, theirs *conn) {
	t.Helper()
	a, b, err := socketPair("test", true)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs = newConn(a), newConn(b)
	t.Cleanup(func() { ours.Close(); theirs.Close() })
	return ours, theirs
}

// TestControlFraming: messages keep their boundaries and an fd arrives
// with the message it was sent with, on a non-blocking end with a deadline
// and on a blocking one, for a message larger than the socket's buffer too.
func TestControlFraming(t *testing.T) {
	ours, theirs := connPair(t)
	pass, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer pass.Close()
	big := strings.Repeat("x", 1<<20) // more than a unix socket buffers
	sent := make(chan error, 1)
	go func() {
		err := theirs.send(message{Step: stepReady}, nil)
		if err == nil {
			err = theirs.send(message{Step: stepNetNS}, pass)
		}
		if err == nil {
			err = theirs.send(message{Step: stepResult, Error: big}, nil)
		}
		sent <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	m, fd, err := ours.recv(stepReady, deadline)
	if err != nil || fd != nil || m.Step != stepReady {
		t.Fatalf("recv(ready) = %+v, %v, %v; want ready without an fd", m, fd, err)
	}
	m, fd, err = ours.recv(stepNetNS, deadline, stepResult)
	if err != nil || fd == nil || m.Step != stepNetNS {
		t.Fatalf("recv(netns) = %+v, %v, %v; want netns with an fd", m.Step, fd, err)
	}
	fd.Close()
	m, fd, err = ours.recv(stepResult, deadline)
	if err != nil || fd != nil || m.Error != big {
		t.Fatalf("recv(result) = %q (%d bytes), %v, %v; want the whole message", m.Step, len(m.Error), fd, err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	// The blocking end reads what the non-blocking end sends.
	if err := ours.send(message{Step: stepGo}, pass); err != nil {
		t.Fatal(err)
	}
	m, fd, err = theirs.recv(stepGo, noDeadline)
	if err != nil || fd == nil {
		t.Fatalf("recv(go) = %+v, %v, %v; want go with an fd", m, fd, err)
	}
	fd.Close()
}

// TestControlEnds: a wrong step, an error step, a deadline and a closed
// peer each end a wait with an error that says which.
func TestControlEnds(t *testing.T) {
	ours, theirs := connPair(t)
	theirs.send(message{Step: stepResult}, nil)
	if _, _, err := ours.recv(stepReady, time.Now().Add(5*time.Second)); err == nil || !strings.Contains(err.Error(), `got "result"`) {
		t.Errorf("recv(ready) after result = %v, want a wrong step", err)
	}
	theirs.send(message{Step: stepError, Error: "mount: no"}, nil)
	if _, _, err := ours.recv(stepReady, time.Now().Add(5*time.Second)); !errors.Is(err, ErrSetup) {
		t.Errorf("recv(ready) after error = %v, want ErrSetup", err)
	}
	if _, _, err := ours.recv(stepReady, time.Now().Add(50*time.Millisecond)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("recv(ready) with nothing sent = %v, want a deadline", err)
	}
	theirs.write([]byte{0, 0, 0, 10, '{'}, nil) // half a message, then gone
	theirs.Close()
	if _, _, err := ours.recv(stepReady, noDeadline); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("recv(ready) from a closed peer = %v, want unexpected EOF", err)
	}
}

// A message with a field this side does not know (from an init binary of
// another build) or anything after it is refused, not half read.
func TestControlUnknownField(t *testing.T) {
	ours, theirs := connPair(t)
	for _, tc := range []struct{ body, want string }{
		{`{"step":"spec","spec":{"build_id":"x","features":{"uid_range":true,"gpu":true}}}`, `unknown field "gpu"`},
		{`{"step":"spec","sandbox":1}`, `unknown field "sandbox"`},
		{`{"step":"spec"} {}`, "data after the message"},
		{`{"step":"spec"}}`, "data after the message"},
		{`{"step":"spec"} `, ""},
	} {
		theirs.write(append([]byte{0, 0, 0, byte(len(tc.body))}, tc.body...), nil)
		_, _, err := ours.recv(stepSpec, time.Now().Add(5*time.Second))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("recv(%s) = %v, want %q", tc.body, err, tc.want)
		}
	}
}
