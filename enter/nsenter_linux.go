package enter

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/sandbox"
)

// An entered command runs under util-linux nsenter, which joins the
// builder's user, mount, ipc, uts, network and cgroup namespaces and execs
// it (a Go process cannot join a user namespace: the runtime is
// multi-threaded). It is born in the build's pid namespace (startOnThread).
//
// nsenter does not start as root. Between joining the builder's user
// namespace and its setuid, a root nsenter is a process of host uid 0 in
// the build's pid namespace that the kernel leaves dumpable (the builder's
// user namespace is owned by host uid 0): a uid-range build, root in that
// namespace and so holding CAP_SYS_PTRACE over it, could attach to it and,
// as host uid 0, write the build's /proc/sys (kernel.core_pattern runs as
// host root). So nsenter starts as the host ids the entered identity maps
// to, holding only the capabilities that joining needs in the host's user
// namespace, as ambient capabilities: while it holds them its credentials
// are in the host's user namespace, over which the build has no
// capability to attach with, and joining the builder's user namespace,
// which it does not own, drops them and makes it non-dumpable until it
// execs the command. (Sysctl writes are checked against host uid 0, not
// a capability: a capability-less host uid 0 writes kernel.core_pattern.)
var nsenterCaps = []uintptr{
	unix.CAP_SYS_ADMIN,  // setns into every namespace
	unix.CAP_SYS_CHROOT, // setns into a mount namespace
	unix.CAP_SYS_PTRACE, // open /proc/<builder>/ns/* and /proc/<builder>/root: the builder is in another user namespace
	unix.CAP_SETGID,     // nsenter drops supplementary groups before joining: a single-id build denies setgroups
}

// nsenterArgs joins the namespaces of builder but its pid namespace (see
// startOnThread), takes the identity the build runs as inside them, and
// starts in the build's /build, which nsenter opens through the builder's
// root before it joins (util-linux 2.38 opens a --wd path as given, in the
// mount namespace it starts in).
func nsenterArgs(builder int, id identity, args []string) []string {
	t := strconv.Itoa(builder)
	return append([]string{
		"--target", t, "--user", "--mount", "--ipc", "--uts", "--net", "--cgroup",
		"--setuid", strconv.FormatUint(uint64(id.uid), 10), "--setgid", strconv.FormatUint(uint64(id.gid), 10),
		"--wd=/proc/" + t + "/root" + sandbox.BuildDir, "--",
	}, args...)
}

// startOnThread starts cmd from a thread of its own, which first joins a
// new, empty session keyring (an entered command, like the builder, must
// hold no key of the daemon's; keyrings belong to a thread's credentials,
// which the child inherits) and sets the pid namespace for its children to
// the build's. The command is thus born in the build's pid namespace, and
// the session and process group it makes there (Setsid) are visible in it:
// nsenter --pid would fork after joining instead, leaving the command in a
// session and process group created outside, which an interactive shell
// cannot give the terminal back to when it exits. The thread dies with the
// goroutine, taking its changed state along.
func startOnThread(cmd *exec.Cmd, pidns int) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Deliberately no UnlockOSThread: this thread's state changes.
		// x/sys's KeyctlJoinSessionKeyring passes a name; NULL asks for a
		// new anonymous keyring.
		if _, _, e := unix.Syscall(unix.SYS_KEYCTL, unix.KEYCTL_JOIN_SESSION_KEYRING, 0, 0); e != 0 {
			errc <- fmt.Errorf("new session keyring: %w", e)
			return
		}
		if err := unix.Setns(pidns, unix.CLONE_NEWPID); err != nil {
			errc <- os.NewSyscallError("setns pid", err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}
