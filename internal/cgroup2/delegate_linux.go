package cgroup2

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// DelegateFiles are the files the kernel says a delegated cgroup's owner
// must own (/sys/kernel/cgroup/delegate): cgroup.procs, cgroup.threads,
// cgroup.subtree_control, ... Limit files such as memory.max are not among
// them and stay the delegator's, so a build cannot lift its own limits.
// The file is read once per process.
func DelegateFiles() ([]string, error) {
	delegateFiles.once.Do(func() {
		b, err := os.ReadFile("/sys/kernel/cgroup/delegate")
		if err != nil {
			delegateFiles.err = fmt.Errorf("cgroup delegation not supported by this kernel (/sys/kernel/cgroup/delegate): %w", err)
			return
		}
		delegateFiles.names = strings.Fields(string(b))
	})
	return delegateFiles.names, delegateFiles.err
}

var delegateFiles struct {
	once  sync.Once
	names []string
	err   error
}

// Delegate gives the cgroup directory dir (an open directory or O_PATH
// file) to uid and gid: the directory itself and DelegateFiles, never
// following a link. Everything else in it stays its owner's.
func Delegate(dir *os.File, uid, gid uint32) error {
	names, err := DelegateFiles()
	if err != nil {
		return err
	}
	fd := int(dir.Fd())
	if err := unix.Fchown(fd, int(uid), int(gid)); err != nil {
		return fmt.Errorf("delegate cgroup %s: chown to %d: %w", dir.Name(), uid, err)
	}
	for _, n := range names {
		err := unix.Fchownat(fd, n, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW)
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("delegate cgroup %s: chown %s to %d: %w", dir.Name(), n, uid, err)
		}
	}
	return nil
}

// ChownTree gives the cgroup directory dir and everything below it (the
// cgroups a delegate made, and their files) to uid and gid, working from
// directory fds without following a link: the delegate's systemd could not
// otherwise remove what was made below its cgroup (rmdir needs write
// permission on the parent). A cgroup removed meanwhile is passed over.
func ChownTree(dir *os.File, uid, gid uint32) error {
	if err := unix.Fchown(int(dir.Fd()), int(uid), int(gid)); err != nil {
		return fmt.Errorf("chown cgroup %s: %w", dir.Name(), err)
	}
	return chownEntries(int(dir.Fd()), dir.Name(), uid, gid)
}

func chownEntries(fd int, name string, uid, gid uint32) error {
	// A duplicate, so that closing the listing leaves fd open.
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("chown cgroup %s: %w", name, err)
	}
	d := os.NewFile(uintptr(dup), name)
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("chown cgroup %s: %w", name, err)
	}
	for _, n := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			continue // a cgroup removed meanwhile
		}
		if err := unix.Fchownat(fd, n, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("chown cgroup %s/%s: %w", name, n, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			continue
		}
		child, err := unix.Openat(fd, n, unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		err = chownEntries(child, name+"/"+n, uid, gid)
		unix.Close(child)
		if err != nil {
			return err
		}
	}
	return nil
}

// MountNamespaced mounts a fresh cgroup2 on target, showing the hierarchy
// from the calling thread's cgroup namespace root, with flags (MS_NOSUID,
// ...). A build mounts its own this way, never the host's tree
// (CVE-2022-0492).
func MountNamespaced(target string, flags uintptr) error {
	if err := unix.Mount("cgroup2", target, "cgroup2", flags, ""); err != nil {
		return fmt.Errorf("mount cgroup2 on %s: %w", target, err)
	}
	return nil
}
