package testbed

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// innerArg0 is the argv[0] that makes a re-executed binary the namespace
// stage. It is checked before anything else runs, so no flag parser sees it.
const innerArg0 = "sdbuild-testbed-init"

// The namespace stage's inherited descriptors, after stdin, stdout, stderr
// (all three the console pseudo-terminal).
const (
	configFD = 3 // read: innerConfig as JSON, then EOF
	reportFD = 4 // write: an error message; EOF alone means systemd was exec'd
)

// IsInner reports whether this process was started by Boot as the namespace
// stage.
func IsInner() bool {
	return len(os.Args) > 0 && os.Args[0] == innerArg0
}

// Reexec runs the namespace stage, and never returns, when this process was
// started by Boot as that stage; otherwise it returns at once. Call it first
// thing in main, and in TestMain of any test binary that calls Boot.
func Reexec() {
	if !IsInner() {
		return
	}
	// The cgroup namespace and the exec below belong to this thread only;
	// deliberately never unlocked.
	runtime.LockOSThread()
	report := os.NewFile(reportFD, "report")
	unix.CloseOnExec(reportFD)
	unix.CloseOnExec(configFD)
	err := innerOnThread()
	// innerOnThread returns only on failure: systemd was not exec'd.
	fmt.Fprintf(report, "%v", err)
	fmt.Fprintf(os.Stderr, "sdbuild-testbed: %v\n", err)
	os.Exit(1)
}

// innerOnThread builds the mount tree and execs systemd. It returns only on
// failure, before systemd started.
func innerOnThread() error {
	var cfg innerConfig
	if err := json.NewDecoder(os.NewFile(configFD, "config")).Decode(&cfg); err != nil {
		return fmt.Errorf("read testbed config: %w", err)
	}
	binary, err := findSystemd()
	if err != nil {
		return err
	}
	// Boot put this process into the testbed's cgroup; a cgroup namespace
	// made now is rooted there (one made by clone would be rooted at the
	// parent's cgroup, since clone creates it before CLONE_INTO_CGROUP moves
	// the child).
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return os.NewSyscallError("unshare cgroup namespace", err)
	}
	if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
		return os.NewSyscallError("sethostname", err)
	}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"make mounts private", makePrivate},
		{"remount /proc, /sys, /sys/fs/cgroup", mountKernelFS},
		{"mount /run", mountRun},
		{"mount /tmp and /var/tmp", mountTmp},
		{"build /dev", func() error { return buildDev(cfg.Console) }},
		{"write unit masks", writeMasks},
		{"write journald drop-in", writeJournaldDropIn},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	if err := os.Chdir("/"); err != nil {
		return err
	}
	err = unix.Exec(binary, systemdArgv(binary, cfg), systemdEnv(cfg))
	return fmt.Errorf("exec %s: %w", binary, err)
}

func findSystemd() (string, error) {
	for _, p := range systemdPaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("find systemd in %v: %w", systemdPaths, os.ErrNotExist)
}

// makePrivate stops mount events from propagating to the host; it must
// precede every other mount.
func makePrivate() error {
	return mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "")
}

// mountKernelFS gives the new pid namespace its own proc, makes /sys
// read-only, and replaces the host's cgroup tree with a cgroup2 mount rooted
// at the testbed's cgroup (the cgroup namespace decides the root).
func mountKernelFS() error {
	// The inherited tree is the host's view (on a hybrid host, the v1
	// controllers too); MNT_DETACH takes the submounts with it.
	if err := unix.Unmount("/sys/fs/cgroup", unix.MNT_DETACH); err != nil && err != unix.EINVAL {
		return os.NewSyscallError("umount /sys/fs/cgroup", err)
	}
	if err := mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return err
	}
	// Only this namespace's mount of sysfs changes; a plain remount would
	// change the superblock and make the host's /sys read-only too.
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(-1, "/sys", unix.AT_RECURSIVE, &attr); err != nil {
		return os.NewSyscallError("mount_setattr /sys read-only", err)
	}
	return mount("cgroup2", "/sys/fs/cgroup", "cgroup2", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}

// mountRun gives systemd an empty /run; everything the namespace stage writes
// goes there, so it checks that the tmpfs really is in place first.
func mountRun() error {
	if err := mount("tmpfs", "/run", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return err
	}
	return checkTmpfs("/run")
}

func writeMasks() error {
	if err := os.MkdirAll(maskDir, 0o755); err != nil {
		return err
	}
	for _, u := range maskedUnits {
		if err := os.Symlink("/dev/null", filepath.Join(maskDir, u)); err != nil {
			return err
		}
	}
	return nil
}

func writeJournaldDropIn() error {
	if err := os.MkdirAll(journaldDropInDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(journaldDropInDir, journaldDropInName), []byte(journaldDropIn), 0o644)
}

// mount wraps mount(2) with an error that names the target.
func mount(source, target, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s (%s) on %s: %w", source, fstype, target, os.NewSyscallError("mount", err))
	}
	return nil
}
