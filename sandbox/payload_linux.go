package sandbox

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// payloadMain is the payload stage (see stages): the first process of a
// systemd-cgroup build, already in the builder's user, mount and network
// namespaces and in the build's own cgroup. It mounts what a systemd
// inside the build needs and then execs the builder. It exists because
// those mounts must be made from inside the builder's cgroup namespace: a
// cgroup2 mount shows the tree from the mounter's namespace root, and one
// made by init would show the whole scope (systemd-nspawn then fails to
// create its payload cgroup).
func payloadMain() int {
	// The cgroup namespace is per thread: it is created, mounted from and
	// kept through exec on this one thread (MaybeInit locked it).
	// Created now, not at clone: a namespace made at clone time is rooted
	// at the parent's cgroup even with CLONE_INTO_CGROUP, and this one must
	// be rooted at the build's own cgroup, where we are.
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild payload: create cgroup namespace: %v\n", err)
		return 125
	}
	ctl := newConn(os.NewFile(3, "sdbuild-payload"))
	m, fd, err := ctl.recv(stepExec, noDeadline)
	closeFile(fd)
	ctl.Close()
	if err == nil && m.Exec == nil {
		err = fmt.Errorf("wait for %s: message without a builder", stepExec)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild payload: %v\n", err)
		return 125
	}
	ps := m.Exec
	if err := loopbackUp(); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild payload: %v\n", err)
		return 125
	}
	for _, m := range []struct {
		fstype, target, data string
		flags                uintptr
	}{
		// A proc for the build's own pid namespace.
		{"proc", "/proc", "", 0},
		// A read-only sysfs for its own network namespace.
		{"sysfs", "/sys", "", unix.MS_RDONLY},
		// systemd wants a writable /run of its own.
		{"tmpfs", "/run", "mode=0755", 0},
	} {
		if err := unix.Mount(m.fstype, m.target, m.fstype, m.flags|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, m.data); err != nil {
			fmt.Fprintf(os.Stderr, "sdbuild payload: mount %s on %s: %v\n", m.fstype, m.target, err)
			return 125
		}
	}
	// A fresh cgroup2, rooted at the build's own cgroup.
	if err := cgroup2.MountNamespaced("/sys/fs/cgroup", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild payload: %v\n", err)
		return 125
	}
	err = syscall.Exec(ps.Path, ps.Args, os.Environ())
	fmt.Fprintf(os.Stderr, "sdbuild payload: exec %s: %v\n", ps.Path, err)
	if os.IsNotExist(err) {
		return 127
	}
	return 126
}
