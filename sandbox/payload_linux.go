package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// payloadArg0 turns our binary into the payload stage: the first process
// of a systemd-cgroup build, already in the builder's user, mount and
// cgroup namespaces and in the build's own cgroup. It mounts what a
// systemd inside the build needs and then execs the builder. It exists
// because those mounts must be made from inside the builder's cgroup
// namespace: a cgroup2 mount shows the tree from the mounter's namespace
// root, and one made by init would show the whole scope (systemd-nspawn
// then fails to create its payload cgroup).
const payloadArg0 = "sdbuild-sandbox-payload"

// payloadSpec reaches the payload stage on fd 3.
type payloadSpec struct {
	Path string   `json:"path"`
	Args []string `json:"args"`
}

func payloadMain() int {
	// The cgroup namespace is per thread: create it, mount and exec on
	// this one thread (execve keeps the calling thread's namespaces).
	runtime.LockOSThread()
	// Created now, not at clone: a namespace made at clone time is rooted
	// at the parent's cgroup even with CLONE_INTO_CGROUP, and this one must
	// be rooted at the build's own cgroup, where we are.
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild payload: create cgroup namespace: %v\n", err)
		return 125
	}
	f := os.NewFile(3, "sdbuild-payload")
	var ps payloadSpec
	err := json.NewDecoder(f).Decode(&ps)
	f.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild payload: read spec: %v\n", err)
		return 125
	}
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
		// A fresh cgroup2, rooted at the build's own cgroup.
		{"cgroup2", "/sys/fs/cgroup", "", 0},
		// systemd wants a writable /run of its own.
		{"tmpfs", "/run", "mode=0755", 0},
	} {
		if err := unix.Mount(m.fstype, m.target, m.fstype, m.flags|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, m.data); err != nil {
			fmt.Fprintf(os.Stderr, "sdbuild payload: mount %s on %s: %v\n", m.fstype, m.target, err)
			return 125
		}
	}
	err = syscall.Exec(ps.Path, ps.Args, os.Environ())
	fmt.Fprintf(os.Stderr, "sdbuild payload: exec %s: %v\n", ps.Path, err)
	if os.IsNotExist(err) {
		return 127
	}
	return 126
}
