package testbed

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// newCgroup makes a child of the caller's own cgroup2 cgroup named
// name-RANDOM. A child of one's own cgroup is what a delegated cgroup
// allows; no controller is enabled, so the caller may stay where it is.
func newCgroup(name string) (string, error) {
	mnt, err := cgroup2.Root()
	if err != nil {
		return "", err
	}
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	defer f.Close()
	own, err := ownCgroup2Path(f)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(filepath.Join(mnt, own), name+"-*")
	if err != nil {
		return "", fmt.Errorf("make testbed cgroup: %w", err)
	}
	// It is the root of the testbed's cgroup tree, which every user must
	// be able to enter (as on a real host): a user manager lives below it.
	if err := os.Chmod(dir, 0o755); err != nil {
		os.Remove(dir)
		return "", fmt.Errorf("make testbed cgroup: %w", err)
	}
	return dir, nil
}

// cgroupTree lists dir and its descendant cgroups, deepest first.
func cgroupTree(dir string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	slices.Reverse(dirs)
	return dirs, err
}

// removeCgroup removes dir and every cgroup below it, deepest first. A cgroup
// that still holds a process is an ErrLeftover (the processes get SIGKILL
// through cgroup.kill, but are reported all the same: after the testbed's
// pid namespace is gone, none should be there).
func removeCgroup(dir string) error {
	dirs, err := cgroupTree(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list cgroup %s: %w", dir, err)
	}
	var errs []error
	for _, d := range dirs {
		pids, err := cgroup2.ProcsDir(d)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("read cgroup %s: %w", d, err))
		}
		if len(pids) > 0 {
			errs = append(errs, fmt.Errorf("cgroup %s still holds pids %v: %w", d, pids, ErrLeftover))
		}
	}
	if len(errs) > 0 {
		_ = cgroup2.KillDir(dir)
	}
	for _, d := range dirs {
		if err := unix.Rmdir(d); err != nil && err != unix.ENOENT {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, os.NewSyscallError("rmdir", err)))
		}
	}
	return errors.Join(errs...)
}
