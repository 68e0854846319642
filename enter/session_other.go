//go:build !linux

package enter

import (
	"errors"
	"fmt"
	"io"
)

// Session is one entered command; there are none but on Linux.
type Session struct{}

// Start needs Linux's namespaces, pidfds and cgroup2, so it fails
// elsewhere.
func Start(t Target, opt Options) (*Session, error) {
	return nil, fmt.Errorf("enter build %s: %w", t.ID, errors.ErrUnsupported)
}

// Args is the command the session runs.
func (s *Session) Args() []string { return nil }

// PID is the host pid of the command.
func (s *Session) PID() int { return 0 }

// Relay is never reached: Start returns no Session here.
func (s *Session) Relay(w io.Writer, r io.Reader) (int, error) { return 255, errors.ErrUnsupported }

// Finish is never reached: Start returns no Session here.
func (s *Session) Finish() error { return errors.ErrUnsupported }
