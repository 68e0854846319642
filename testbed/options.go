package testbed

import (
	"fmt"
	"io"
	"time"
)

// DefaultName is the testbed's host name when Options.Name is empty.
const DefaultName = "sdbuild-testbed"

// DefaultBootTimeout bounds Boot when Options.BootTimeout is zero. A boot
// takes about a second here; the margin is for a loaded two-core machine.
const DefaultBootTimeout = 60 * time.Second

// Options configure one testbed.
type Options struct {
	// Name is the host name inside and the prefix of the cgroup directory:
	// lower-case letters, digits and '-', at most 48 characters.
	Name string

	// Log receives systemd's console output (boot status lines, failures),
	// with carriage returns removed. Nil discards it.
	Log io.Writer

	// BootTimeout bounds Boot in addition to its context.
	BootTimeout time.Duration
}

// withDefaults returns opt with empty fields filled in, or an error naming
// the first invalid one.
func (opt Options) withDefaults() (Options, error) {
	if opt.Name == "" {
		opt.Name = DefaultName
	}
	if err := checkName(opt.Name); err != nil {
		return opt, err
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	if opt.BootTimeout <= 0 {
		opt.BootTimeout = DefaultBootTimeout
	}
	return opt, nil
}

// checkName accepts a single host name label, which is also a safe cgroup
// directory name.
func checkName(name string) error {
	if len(name) == 0 || len(name) > 48 {
		return fmt.Errorf("name %q: %w: want 1 to 48 characters", name, ErrInvalidName)
	}
	if name[0] == '-' || name[len(name)-1] == '-' {
		return fmt.Errorf("name %q: %w: must not start or end with '-'", name, ErrInvalidName)
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return fmt.Errorf("name %q: %w: want only a-z, 0-9 and '-'", name, ErrInvalidName)
		}
	}
	return nil
}
