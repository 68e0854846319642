package enter

import (
	"io"
	"sync"
	"time"

	"github.com/sdbuild/sdbuild/api"
)

// drainTimeout bounds the wait for an entered command's last output once
// it and everything it started are dead, and for its cgroup to empty.
const drainTimeout = 5 * time.Second

// Relay carries frames between the client and the command until the
// command has exited: the client's frames are read from r, the command's
// output is written to w, and its exit status last, after the session has
// ended (Finish). A client that goes away, on either side, takes the
// session with it. Relay returns the exit status and what Finish
// returned.
func (s *Session) Relay(w io.Writer, r io.Reader) (int, error) {
	var wmu sync.Mutex
	send := func(t api.FrameType, p []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return api.WriteFrame(w, t, p)
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		buf := make([]byte, 32<<10)
		for {
			n, err := s.out.Read(buf)
			if n > 0 && send(api.FrameData, buf[:n]) != nil {
				s.kill() // the client is gone
			}
			if err != nil {
				return
			}
		}
	}()
	go s.input(r)
	s.cmd.Wait()
	code := exitStatus(s.cmd.ProcessState)
	// Whatever the command left running ends with it: it holds the output
	// open, and it is the session's, not the build's.
	s.kill()
	select {
	case <-drained:
	case <-time.After(drainTimeout):
	}
	// Once the client has the exit status nothing of the session is left.
	err := s.Finish()
	send(api.FrameExit, api.ExitPayload(code))
	return code, err
}

// input applies the client's frames until the connection ends. A client
// that goes away takes the session with it.
func (s *Session) input(r io.Reader) {
	for {
		t, p, err := api.ReadFrame(r)
		if err != nil {
			s.kill()
			return
		}
		switch t {
		case api.FrameData:
			s.in.Write(p)
		case api.FrameClose:
			if !s.tty {
				s.in.Close()
			}
		case api.FrameResize:
			if rows, cols, err := api.ParseResize(p); err == nil && s.tty {
				setWinsize(s.in, rows, cols)
			}
		}
	}
}
