package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Namespace is one kind of namespace a build is given (sandbox init:
// mount, pid, ipc, uts, network; the builder: user, mount, cgroup).
type Namespace struct {
	Name string  // as messages say it: "network"
	Knob string  // the per-user-namespace sysctl that caps how many may exist
	Flag uintptr // its clone flag
}

// Namespaces are all the kinds, in the order they are checked.
var Namespaces = []Namespace{
	{"user", "user.max_user_namespaces", unix.CLONE_NEWUSER},
	{"mount", "user.max_mnt_namespaces", unix.CLONE_NEWNS},
	{"pid", "user.max_pid_namespaces", unix.CLONE_NEWPID},
	{"ipc", "user.max_ipc_namespaces", unix.CLONE_NEWIPC},
	{"uts", "user.max_uts_namespaces", unix.CLONE_NEWUTS},
	{"network", "user.max_net_namespaces", unix.CLONE_NEWNET},
	{"cgroup", "user.max_cgroup_namespaces", unix.CLONE_NEWCGROUP},
}

// probeTimeout bounds one probe, which normally takes about a millisecond.
const probeTimeout = 10 * time.Second

// ProbeNamespace creates one namespace of kind ns by starting the binary
// stages run as (see SetInitBinary) as the probe, which exits at once.
// Root creates it in its own user namespace, as sandbox init does; anyone
// else (euid not 0) can only create it inside a new user namespace. It
// returns the clone's errno, which names the cause (ENOSPC: a limit;
// EPERM: forbidden; EINVAL: not built in), or nil.
func ProbeNamespace(ctx context.Context, ns Namespace, euid int) error {
	flags := ns.Flag
	if euid != 0 {
		flags |= unix.CLONE_NEWUSER
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/proc/self/exe")
	cmd.Args = []string{probeArg0}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags}
	setStagePath(cmd)
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
		return fmt.Errorf("probe %s namespace: no exit within %v", ns.Name, probeTimeout)
	}
	// It started, so the namespace was made; but a binary that does not
	// dispatch the probe first thing in main is no proof of that.
	return fmt.Errorf("probe %s namespace: %w (does the binary call sandbox.MaybeInit first?)", ns.Name, err)
}

// probeNamespaces finds which of the namespaces in flags cannot be
// created, one at a time: clone(2) only says EINVAL/EPERM/ENOSPC for the
// whole set, and this runs only after such a failure, to say which one it
// was. It returns nil when each namespace can be created on its own.
func probeNamespaces(flags uintptr) error {
	for _, ns := range Namespaces {
		if flags&ns.Flag == 0 {
			continue
		}
		if err := ProbeNamespace(context.Background(), ns, os.Geteuid()); err != nil {
			return fmt.Errorf("%w: %s namespace: %w (check %s and security modules; sdbuild never builds unsandboxed)", ErrNamespace, ns.Name, err, ns.Knob)
		}
	}
	return nil
}
