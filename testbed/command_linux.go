package testbed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// Command returns a command that runs name with args inside the testbed: in
// its mount, pid, cgroup and uts namespaces, in a transient scope of its
// systemd (`systemd-run --scope -p Delegate=yes`, so the process sits inside
// the testbed's cgroup tree like a service with a delegated cgroup, rather
// than outside the cgroup namespace's root), with the caller's environment and
// working directory (the root file system is shared, but for /tmp and
// /var/tmp: a working directory there does not exist inside, and the command
// fails to start).
//
// When ctx is done, every process of the command's scope is killed. For an
// interactive command, clear SysProcAttr (it puts nsenter in a process group
// of its own, away from the terminal's foreground group). Whatever is left
// inside when the testbed is closed is killed with it.
func (tb *Testbed) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	wd, wdErr := os.Getwd()
	unit := fmt.Sprintf("sdbuild-testbed-command-%d.scope", tb.commands.Add(1))
	inner := append([]string{"systemd-run", "--scope", "--quiet", "--collect", "-p", "Delegate=yes", "--unit=" + unit, "--", name}, args...)
	cmd := tb.nsenter(ctx, wd, inner...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// nsenter forks the command and forwards no signal. Killing nsenter
		// would hand the command to the host's init, and the testbed's pid
		// namespace could not end before that init reaps it; so the scope
		// is killed, and nsenter reaps its child and exits on its own.
		if err := cgroup2.KillDir(filepath.Join(tb.Cgroup, "system.slice", unit)); err == nil {
			return nil
		}
		// No scope yet: kill nsenter's process group, command included.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	switch {
	case wdErr != nil:
		cmd.Err = wdErr
	case tb.closed():
		cmd.Err = ErrClosed
	}
	return cmd
}

// nsenter returns a command that runs argv in the testbed's namespaces with
// working directory dir (resolved inside), but outside any of its units.
func (tb *Testbed) nsenter(ctx context.Context, dir string, argv ...string) *exec.Cmd {
	args := append([]string{
		"--target", strconv.Itoa(tb.PID),
		"--mount", "--uts", "--cgroup", "--pid",
		"--wdns=" + dir,
		"--",
	}, argv...)
	return exec.CommandContext(ctx, "nsenter", args...)
}

func (tb *Testbed) closed() bool {
	select {
	case <-tb.exited:
		return true
	default:
		return false
	}
}
