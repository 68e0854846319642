package testbed

import (
	"errors"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

var (
	// ErrNotRoot is returned by Boot when the caller is not root.
	ErrNotRoot = errors.New("booting a testbed needs root")

	// ErrNoCgroup2 is returned by Boot when no cgroup2 hierarchy is mounted
	// (the host's cgroup2 is found as everywhere in sdbuild: cgroup2.Root).
	ErrNoCgroup2 = cgroup2.ErrNoCgroup2

	// ErrOutsideCgroupNamespace is returned by Boot when the caller's own
	// cgroup lies outside its cgroup namespace (for example a command run in
	// a testbed through nsenter without a scope), so no child cgroup can be
	// named for it.
	ErrOutsideCgroupNamespace = errors.New("own cgroup is outside the cgroup namespace")

	// ErrInvalidName is returned by Boot when Options.Name is not a short
	// host name.
	ErrInvalidName = errors.New("invalid testbed name")

	// ErrExited is returned by Boot when systemd exits before it is ready.
	ErrExited = errors.New("systemd exited during boot")

	// ErrNotRunning is returned by Boot when systemd finished starting up
	// in a state other than running or degraded.
	ErrNotRunning = errors.New("system is not running")

	// ErrLeftover is returned by Close when a process, a namespace or a
	// cgroup of the testbed survived teardown, or a file of the testbed's
	// /tmp or /var/tmp is in the host's.
	ErrLeftover = errors.New("testbed left something behind")

	// ErrClosed is what a command from Command fails with once the testbed
	// is closed.
	ErrClosed = errors.New("testbed is closed")
)
