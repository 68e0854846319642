package sandbox

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// namespaceNames name each namespace flag for error messages.
var namespaceNames = []struct {
	flag uintptr
	name string
	knob string // the setting that limits it
}{
	{unix.CLONE_NEWUSER, "user", "user.max_user_namespaces"},
	{unix.CLONE_NEWNS, "mount", "user.max_mnt_namespaces"},
	{unix.CLONE_NEWPID, "pid", "user.max_pid_namespaces"},
	{unix.CLONE_NEWIPC, "ipc", "user.max_ipc_namespaces"},
	{unix.CLONE_NEWUTS, "uts", "user.max_uts_namespaces"},
	{unix.CLONE_NEWNET, "network", "user.max_net_namespaces"},
	{unix.CLONE_NEWCGROUP, "cgroup", "user.max_cgroup_namespaces"},
}

// probeNamespaces finds which of the namespaces in flags cannot be
// created, by starting our own binary as a probe that exits at once, in one
// namespace at a time. clone(2) only says EINVAL/EPERM/ENOSPC for the whole
// set; this runs only after such a failure, to say which one it was.
// It returns nil when each namespace can be created on its own.
func probeNamespaces(flags uintptr) error {
	for _, ns := range namespaceNames {
		if flags&ns.flag == 0 {
			continue
		}
		sys := &syscall.SysProcAttr{Cloneflags: ns.flag}
		if ns.flag == unix.CLONE_NEWUSER {
			sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		}
		p, err := os.StartProcess("/proc/self/exe", []string{probeArg0}, &os.ProcAttr{Sys: sys})
		if err != nil {
			return fmt.Errorf("%w: %s namespace: %w (check %s and security modules; sdbuild never builds unsandboxed)", ErrNamespace, ns.name, err, ns.knob)
		}
		p.Wait()
	}
	return nil
}
