package sandbox

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// setupOnThread builds the sandbox root and pivots into it. It runs as root
// of the caller's user namespace (or, for a caller without root, of its
// own), in init's own mount, pid, ipc, uts and network namespaces.
//
// For a prepared sandbox (see SpawnPrepared), awaitRequest is not nil: the
// steps before it build what every build has alike, then awaitRequest
// returns the whole spec, the build's own part filled in, and the steps
// after it add what is the build's own (its slot's ids, its inputs) and
// close the root. Nothing of the build is in the root before that step.
func setupOnThread(s *Spec, awaitRequest func() (*Spec, error)) error {
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
		{"dev", func() error { return setupDev(rootfd, s) }},
		{"proc", func() error {
			return mountFS(rootfd, "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
		}},
		{"sys and run", func() error { return setupSystemdMounts(rootfd, s) }},
		{"cgroup delegation", func() error { return readDelegateFiles(s) }},
		{"build dirs", func() error { return bindBuildDirs(rootfd, s) }},
		{"hostname", setHostname},
		{"loopback", loopbackUp},
		{"limits", limitOnThread},
		// Inputs may not lie on /proc, /dev, /sys, /run or the build dirs
		// (reserved), so mounting them after those changes nothing.
		{"request", func() error {
			if awaitRequest == nil {
				return nil
			}
			full, err := awaitRequest()
			if err == nil {
				*s = *full
			}
			return err
		}},
		{"build dirs owner", func() error { return chownBuildDirsOnThread(s) }},
		{"inputs", func() error { return mountInputs(rootfd, s) }},
		{"action dirs", func() error { return bindActionDirs(rootfd, s) }},
		{"pivot_root", func() error { return pivotInto(rootfd) }},
		{"read-only root", func() error { return setReadOnly("/", unix.MOUNT_ATTR_NODEV) }},
		{"read-only dev", func() error { return setReadOnly("/dev", unix.MOUNT_ATTR_NOEXEC) }},
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

// limitOnThread sets what the builder inherits: a hard core size of 0 (the
// kernel's core handler runs on the host) and a fresh, anonymous session
// keyring, so the build holds no key of its caller. The keyring belongs to
// this thread's credentials, which is why it runs on init's locked thread,
// the one that forks the builder.
func limitOnThread() error {
	// Without uid-range the builder's setgroups is denied, so it would keep
	// whatever supplementary groups init has; a daemon started with some
	// would give builds a host group's access. Drop them all (on every
	// thread: syscall.Setgroups, unlike x/sys's, is process-wide).
	// In a user namespace of init's own without subordinate ids, setgroups
	// is denied for good: the groups cannot be dropped, and the builder,
	// which then runs as the caller, keeps them (it reaches no file beyond
	// its read-only inputs to use them on).
	// Having none to drop is the common case (systemd starts sdbuildd
	// without supplementary groups), and a process-wide setgroups stops
	// every thread to make each call it: skip it then. Until this step
	// every thread of init has the credentials init was executed with
	// (nothing before changes one thread's), so when this thread has no
	// group, none has.
	groups, err := unix.Getgroups()
	if err != nil {
		return fmt.Errorf("read supplementary groups: %w", err)
	}
	if len(groups) > 0 && setgroupsAllowed() {
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

// setgroupsAllowed reports whether this process's user namespace lets it
// call setgroups (its /proc/self/setgroups says "allow").
func setgroupsAllowed() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	if errors.Is(err, os.ErrNotExist) {
		return true // the initial namespace of an old kernel
	}
	return err == nil && strings.TrimSpace(string(b)) == "allow"
}
