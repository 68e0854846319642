//go:build !linux

package testbed

import (
	"context"
	"errors"
	"os/exec"
)

// Testbed is one running throwaway systemd; testbeds exist only on Linux.
type Testbed struct {
	PID    int
	Cgroup string
}

// IsInner reports whether this process is a testbed's namespace stage; never
// outside Linux.
func IsInner() bool { return false }

// Reexec returns at once outside Linux.
func Reexec() {}

// Boot returns errors.ErrUnsupported outside Linux.
func Boot(ctx context.Context, opt Options) (*Testbed, error) {
	return nil, errors.ErrUnsupported
}

// Command returns a command that fails with errors.ErrUnsupported.
func (tb *Testbed) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Err = errors.ErrUnsupported
	return cmd
}

// Close returns nil outside Linux.
func (tb *Testbed) Close() error { return nil }
