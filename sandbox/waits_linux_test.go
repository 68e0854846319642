package sandbox

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// brokenInitArg0, followed by ":" and how, starts the test binary as a
// stand-in for init that speaks the control protocol up to "go", then
// breaks it, and never exits by itself. (init's environment is not
// inherited, so argv[0] carries the how.)
const brokenInitArg0 = "sdbuild-test-broken-init"

func brokenInitMain(how string) int {
	ctl := newConn(os.NewFile(3, "sdbuild-control"))
	if _, _, err := ctl.recv(stepSpec, noDeadline); err != nil {
		return 1
	}
	if err := ctl.send(message{Step: stepReady}, nil); err != nil {
		return 1
	}
	if _, _, err := ctl.recv(stepGo, noDeadline); err != nil {
		return 1
	}
	switch how {
	case "garbage":
		body := "{\"step\": \"result\", \"result\": [garbage"
		ctl.write(append([]byte{0, 0, 0, byte(len(body))}, body...), nil)
	case "no-result":
		ctl.send(message{Step: stepResult}, nil)
	case "close":
		ctl.Close()
	}
	// Whatever the parent does with the socket, stay: only a kill ends us.
	for {
		unix.Pause()
	}
}

// TestResultWaitEnds: whatever init sends instead of a result, or if it
// closes the socket and stays, the wait for the result ends within
// seconds with an error that says what happened, and init is gone.
func TestResultWaitEnds(t *testing.T) {
	tests := []struct{ brk, want string }{
		{"garbage", "invalid character"},
		{"no-result", "message without a result"},
		{"close", "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.brk, func(t *testing.T) {
			s := newSpec(t, "true")
			old := initStage
			initStage = brokenInitArg0 + ":" + tt.brk
			t.Cleanup(func() { initStage = old })
			p := startSpec(t, s)
			if err := p.Go(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			start := time.Now()
			go func() { _, err := p.Wait(); done <- err }()
			var err error
			select {
			case err = <-done:
			case <-time.After(endGrace + 10*time.Second):
				p.Kill()
				t.Fatalf("Wait did not return %s after init broke the protocol (%s)", time.Since(start), tt.brk)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "without a result") {
				t.Errorf("Wait = %v, want an error about the missing result containing %q", err, tt.want)
			}
			if errors.Is(err, ErrKilled) {
				t.Errorf("Wait = %v: init was ended by the wait, not killed by the caller", err)
			}
			if unix.Kill(p.PID(), 0) == nil {
				t.Errorf("init %d still runs after Wait", p.PID())
			}
		})
	}
}

// TestLongBuildKeepsItsResult: a builder that runs longer than init took
// to get ready still reports its result (the ready step's read deadline
// once stayed on the socket and cut the result's read short, after which
// the parent waited for init, and init for the parent).
func TestLongBuildKeepsItsResult(t *testing.T) {
	old := readyTimeout
	readyTimeout = 500 * time.Millisecond
	t.Cleanup(func() { readyTimeout = old })
	s := newSpec(t, "sleep 1.5; exit 7")
	done := make(chan run, 1)
	go func() { done <- runSpec(t, s) }()
	select {
	case r := <-done:
		if r.err != nil || r.res.ExitCode != 7 {
			t.Errorf("result = %+v, %v; want exit status 7", r.res, r.err)
		}
	case <-time.After(readyTimeout + 20*time.Second):
		t.Fatalf("a build that ran longer than the ready timeout (%s) did not end", readyTimeout)
	}
}
