package doctor

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// probeArg0 is sandbox's probe mode: sandbox.MaybeInit exits 0 at once
// when the binary runs under this name.
const probeArg0 = "sdbuild-sandbox-probe"

// probeTimeout bounds one probe, which normally takes about a millisecond.
const probeTimeout = 10 * time.Second

var cloneFlags = map[string]uintptr{
	"user":    unix.CLONE_NEWUSER,
	"mount":   unix.CLONE_NEWNS,
	"pid":     unix.CLONE_NEWPID,
	"ipc":     unix.CLONE_NEWIPC,
	"uts":     unix.CLONE_NEWUTS,
	"network": unix.CLONE_NEWNET,
	"cgroup":  unix.CLONE_NEWCGROUP,
}

// probeNamespace creates one namespace of kind ns by starting our own
// binary as sandbox's probe in it. Root creates it in its own user
// namespace, as sandbox init does; anyone else can only create it inside
// a new user namespace. It returns the clone's errno, which names the
// cause (ENOSPC: a limit; EPERM: forbidden; EINVAL: not built in).
func probeNamespace(ctx context.Context, ns string, euid int) error {
	flags := cloneFlags[ns]
	if euid != 0 {
		flags |= unix.CLONE_NEWUSER
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/proc/self/exe")
	cmd.Args = []string{probeArg0}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags}
	if flags&unix.CLONE_NEWUSER != 0 {
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: euid, Size: 1}}
	}
	err := cmd.Run()
	var errno syscall.Errno
	switch {
	case err == nil:
		return nil
	case errors.As(err, &errno):
		return errno
	case ctx.Err() != nil:
		return fmt.Errorf("probe %s namespace: no exit within %v", ns, probeTimeout)
	}
	// It started, so the namespace was made; but a binary that does not
	// dispatch the probe first thing in main is no proof of that.
	return fmt.Errorf("probe %s namespace: %w (does the binary call sandbox.MaybeInit first?)", ns, err)
}
