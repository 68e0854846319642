package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// argv[0] values that turn our own binary into a sandbox stage.
const (
	initArg0  = "sdbuild-sandbox-init"
	probeArg0 = "sdbuild-sandbox-probe"
)

// MaybeInit turns the process into sandbox init when it was started as
// one, and never returns in that case. Every binary that starts sandboxes
// (and every test binary that does) calls it first thing in main, before
// flags or configuration are parsed, like runc's init.
func MaybeInit() {
	switch filepath.Base(os.Args[0]) {
	case initArg0:
		// Thread state (the session keyring, below) is per thread, and the
		// builder's parent-death signal fires when the thread that forked
		// it exits: stay on this thread for good (Go issue 27505).
		runtime.LockOSThread()
		os.Exit(initMain())
	case probeArg0:
		os.Exit(0)
	case payloadArg0:
		os.Exit(payloadMain())
	case reclaimArg0:
		os.Exit(reclaimMain())
	case mappedArg0:
		os.Exit(mappedMain())
	}
}

// initMain is init: it receives the spec, builds the root, waits to be
// released, runs the builder and reports how it ended.
func initMain() int {
	// The parent-death signal set at clone does not survive an exec that
	// raises capabilities, which the mapped stage's exec into init does
	// (see mappedMain): set it again. Had the parent died already, the
	// spec below never comes.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild init: set parent-death signal: %v\n", err)
		return 1
	}
	// The builder may share init's uid (a user's daemon without
	// subordinate ids) and so signal it; as PID 1 of the build, init gets
	// only the signals it handles. Handled, not ignored: the builder must
	// not inherit ignored signals.
	signal.Notify(make(chan os.Signal, 1), unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	// Until the spec says otherwise, every fd beyond the control socket and
	// 0-2 is close-on-exec (CVE-2024-21626: a leaked fd is a way out).
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild init: close_range: %v\n", err)
		return 1
	}
	ctl := newConn(os.NewFile(3, "sdbuild-control"))
	m, err := ctl.recv(stepSpec, noDeadline)
	if err != nil || m.Spec == nil {
		fmt.Fprintf(os.Stderr, "sdbuild init: %v\n", err)
		return 1
	}
	spec := m.Spec
	if err := setupLocked(spec); err != nil {
		ctl.send(message{Step: stepError, Error: err.Error()})
		return 1
	}
	if err := ctl.send(message{Step: stepReady}); err != nil {
		return 1
	}
	_, cgroupDir, err := ctl.recvWithFD(stepGo)
	if err != nil {
		// The parent went away or gave up: nothing may run.
		fmt.Fprintf(os.Stderr, "sdbuild init: %v\n", err)
		return 1
	}
	if spec.Features.SystemdCgroup && cgroupDir == nil {
		ctl.send(message{Step: stepError, Error: "feature systemd-cgroup: no cgroup for the build was passed"})
		return 1
	}
	if err := chownCgroupLocked(spec, cgroupDir); err != nil {
		ctl.send(message{Step: stepError, Error: err.Error()})
		return 1
	}
	if cgroupDir != nil {
		defer cgroupDir.Close()
	}
	res, err := runBuilderLocked(spec, cgroupDir, ctl)
	if err != nil {
		ctl.send(message{Step: stepError, Error: err.Error()})
		return 1
	}
	if err := killAllLocked(); err != nil {
		ctl.send(message{Step: stepError, Error: err.Error()})
		return 1
	}
	if spec.UserNS != nil {
		// Nothing of the build runs any more: hand its files, and the
		// cgroups it made, back to the caller here, where the build's ids
		// are mapped, rather than in a helper of its own (Reclaim) that
		// would have to be mapped again. The caller's systemd can then
		// remove the cgroups.
		if cgroupDir != nil {
			if err := reclaimCgroup(cgroupDir); err != nil {
				fmt.Fprintf(os.Stderr, "sdbuild init: %v\n", err)
			}
		}
		if err := reclaimBuildDirs(); err != nil {
			fmt.Fprintf(os.Stderr, "sdbuild init: %v\n", err)
		} else {
			res.Reclaimed = true
		}
	}
	if err := ctl.send(message{Step: stepResult, Result: &res}); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild init: %v\n", err)
		return 1
	}
	// Stay, alone in the build's cgroup, until the parent has read what
	// the cgroup measured and closes the socket. Returning then ends init;
	// had anything survived, the kernel would kill it with the namespace.
	ctl.recv(stepGo, noDeadline)
	return 0
}

// killAllLocked kills every process of the build but init and reaps them.
// kill(-1) from a pid namespace's init reaches every other process in the
// namespace and in namespaces nested in it; fork fails once SIGKILL is
// pending, so nothing escapes between the kill and the reaping, which runs
// until init has no child left.
func killAllLocked() error {
	if err := unix.Kill(-1, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill the build's processes: %w", err)
	}
	for {
		_, err := unix.Wait4(-1, nil, 0, nil)
		switch {
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.ECHILD):
			return nil
		case err != nil:
			return fmt.Errorf("reap the build's processes: %w", err)
		}
	}
}

// setupLocked builds the sandbox root and pivots into it. It runs as root
// of the caller's user namespace (or, for a caller without root, of its
// own), in init's own mount, pid, ipc, uts and network namespaces.
func setupLocked(s *Spec) error {
	// The build must not be able to read init's memory or its /proc
	// entries (/proc/1/exe is our binary: CVE-2019-5736).
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("set non-dumpable: %w", err)
	}
	// Nothing we mount may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	root := s.hostDir("root")
	if err := unix.Mount("tmpfs", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=1m"); err != nil {
		return fmt.Errorf("mount root tmpfs on %s: %w", root, err)
	}
	rootfd, err := unix.Open(root, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open root %s: %w", root, err)
	}
	defer unix.Close(rootfd)
	steps := []struct {
		what string
		do   func() error
	}{
		{"etc", func() error { return writeEtc(rootfd, s) }},
		{"inputs", func() error { return mountInputs(rootfd, s) }},
		{"dev", func() error { return setupDev(rootfd, s) }},
		{"proc", func() error {
			return mountFS(rootfd, "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
		}},
		{"sys and run", func() error { return setupSystemdMounts(rootfd, s) }},
		{"cgroup delegation", func() error { return readDelegateFiles(s) }},
		{"build dirs owner", func() error { return chownBuildDirsLocked(s) }},
		{"build dirs", func() error { return bindBuildDirs(rootfd, s) }},
		{"action dirs", func() error { return bindActionDirs(rootfd, s) }},
		{"pivot_root", func() error { return pivotInto(rootfd) }},
		{"read-only root", func() error { return setReadOnly("/", unix.MOUNT_ATTR_NODEV) }},
		{"read-only dev", func() error { return setReadOnly("/dev", unix.MOUNT_ATTR_NOEXEC) }},
		{"hostname", setHostname},
		{"loopback", loopbackUp},
		{"limits", limitLocked},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			return fmt.Errorf("%s: %w", st.what, err)
		}
	}
	return nil
}

// setupSystemdMounts prepares, for systemd-cgroup builds, what the payload
// stage mounts on from inside the build's own namespaces: a read-only
// sysfs on /sys and a /run mount point. The kernel lets a user namespace
// mount sysfs (as proc) only where one is already fully visible, so init
// mounts one for the payload to cover with its own.
func setupSystemdMounts(rootfd int, s *Spec) error {
	if !s.Features.SystemdCgroup {
		return nil
	}
	if err := mountFS(rootfd, "/sys", "sysfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return err
	}
	fd, err := openDirAt(rootfd, "/run", 0o755)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

func writeEtc(rootfd int, s *Spec) error {
	for name, content := range s.etcFiles() {
		if err := writeFileAt(rootfd, name, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func mountInputs(rootfd int, s *Spec) error {
	for _, m := range s.orderedInputs() {
		if err := mountInput(rootfd, m, s.Client); err != nil {
			return err
		}
	}
	return nil
}

func bindBuildDirs(rootfd int, s *Spec) error {
	for _, d := range []struct{ host, sandbox string }{
		{"build", BuildDir}, {"tmp", TmpDir}, {"out", OutDir},
	} {
		if err := bindWritable(rootfd, s.hostDir(d.host), d.sandbox); err != nil {
			return err
		}
	}
	return nil
}

func setHostname() error {
	if err := unix.Sethostname([]byte(Hostname)); err != nil {
		return err
	}
	return unix.Setdomainname([]byte(Hostname))
}

// limitLocked sets what the builder inherits: a hard core size of 0 (the
// kernel's core handler runs on the host) and a fresh, anonymous session
// keyring, so the build holds no key of its caller. The keyring belongs to
// this thread's credentials, which is why it runs on init's locked thread,
// the one that forks the builder.
func limitLocked() error {
	// Without uid-range the builder's setgroups is denied, so it would keep
	// whatever supplementary groups init has; a daemon started with some
	// would give builds a host group's access. Drop them all (on every
	// thread: syscall.Setgroups, unlike x/sys's, is process-wide).
	// In a user namespace of init's own without subordinate ids, setgroups
	// is denied for good: the groups cannot be dropped, and the builder,
	// which then runs as the caller, keeps them (it reaches no file beyond
	// its read-only inputs to use them on).
	if setgroupsAllowed() {
		if err := syscall.Setgroups(nil); err != nil {
			return fmt.Errorf("drop supplementary groups: %w", err)
		}
	}
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("core limit: %w", err)
	}
	// x/sys's KeyctlJoinSessionKeyring passes a name; NULL asks for a new
	// anonymous keyring rather than joining an existing named one.
	if _, _, errno := unix.Syscall(unix.SYS_KEYCTL, unix.KEYCTL_JOIN_SESSION_KEYRING, 0, 0); errno != 0 {
		return fmt.Errorf("new session keyring: %w", errno)
	}
	return nil
}

// reapUntil reaps children (init is PID 1: orphans of the build are
// reparented to it) until pid has exited, and returns pid's status and
// resource usage.
func reapUntil(pid int) (unix.WaitStatus, *Rusage, error) {
	for {
		var ws unix.WaitStatus
		var ru unix.Rusage
		got, err := unix.Wait4(-1, &ws, 0, &ru)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, nil, fmt.Errorf("wait for builder %d: %w", pid, err)
		}
		if got == pid {
			return ws, rusageOf(&ru), nil
		}
	}
}

func rusageOf(ru *unix.Rusage) *Rusage {
	return &Rusage{
		UtimeUsec: ru.Utime.Nano() / 1000, StimeUsec: ru.Stime.Nano() / 1000, MaxRSSKiB: ru.Maxrss,
		MinFlt: ru.Minflt, MajFlt: ru.Majflt, InBlock: ru.Inblock, OuBlock: ru.Oublock,
		NVCSw: ru.Nvcsw, NIVCSw: ru.Nivcsw,
	}
}
