package testbed

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// mountTmp gives the testbed an empty /tmp and /var/tmp of its own, each a
// tmpfs (see tmpDirs for why). Run by the namespace stage, after mountRun.
func mountTmp() error {
	for _, dir := range tmpDirs {
		if err := mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
			return err
		}
		if err := checkTmpfs(dir); err != nil {
			return err
		}
	}
	return nil
}

// checkTmpfs fails unless dir is a tmpfs: what is written there next must
// not land on the file system below.
func checkTmpfs(dir string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return os.NewSyscallError("statfs "+dir, err)
	}
	if st.Type != unix.TMPFS_MAGIC {
		return fmt.Errorf("%s is not the new tmpfs (type %#x)", dir, st.Type)
	}
	return nil
}

// fileID tells files apart where names do not: a name in the host's /tmp and
// one in the testbed's may be equal by chance, a device, inode and ctime not.
type fileID struct {
	dev, ino uint64
	// ctime tells a file from a later one that got its inode number
	// after it was deleted: the host's /tmp churns (go build's own
	// directories), and a reused number once hid a leftover.
	ctime unix.Timespec
}

func idOf(st *unix.Stat_t) fileID { return fileID{dev: st.Dev, ino: st.Ino, ctime: st.Ctim} }

// hostTmp is, for each of tmpDirs, the files in the host's dir before the
// testbed booted: those are the host's whatever happens later.
type hostTmp map[string]map[fileID]bool

// readHostTmp notes what the host's tmpDirs hold. A dir it cannot read is
// left out, and Close then names everything of the testbed found there.
func readHostTmp() hostTmp {
	h := hostTmp{}
	for _, dir := range tmpDirs {
		ids := map[fileID]bool{}
		names, _ := readNames(unix.AT_FDCWD, dir)
		for _, n := range names {
			var st unix.Stat_t
			if unix.Fstatat(unix.AT_FDCWD, filepath.Join(dir, n), &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
				ids[idOf(&st)] = true
			}
		}
		h[dir] = ids
	}
	return h
}

// tmpLeftovers returns an ErrLeftover error for each of tmpDirs whose host
// dir holds a file of the testbed's own dir: the same file (not only the same
// name), not there before boot. root is the testbed's root directory, read
// while its mount namespace is still held, so that its dirs are the tmpfs
// mounts of the testbed and not the host's below them. With those mounts in
// place nothing can be found; something is when a command inside unmounted
// them or a testbed booted without them, and then the testbed's /tmp is the
// host's and its PrivateTmp= dirs are there.
func tmpLeftovers(root *os.File, before hostTmp) error {
	var errs []error
	for _, dir := range tmpDirs {
		left, shared, err := leftIn(root, dir, before[dir])
		switch {
		case err != nil:
			errs = append(errs, err)
		case len(left) == 0:
		case shared:
			// Then whoever else writes to the host's dir meanwhile is
			// among them too; the testbed cannot tell.
			errs = append(errs, fmt.Errorf("the testbed's %s was the host's (unmounted inside?); new there since boot, so perhaps the testbed's: %v: %w", dir, left, ErrLeftover))
		case len(left) > 0:
			errs = append(errs, fmt.Errorf("%v of the testbed's %s still in the host's (remove them there): %w", left, dir, ErrLeftover))
		}
	}
	return errors.Join(errs...)
}

// leftIn returns the names in the testbed's dir (below root) that are the
// same files in the host's dir and not among before, and whether the
// testbed's dir is the host's dir itself.
func leftIn(root *os.File, dir string, before map[fileID]bool) (left []string, shared bool, err error) {
	// RESOLVE_IN_ROOT: a symbolic link on the way means what it means
	// inside the testbed.
	how := unix.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT}
	fd, err := unix.Openat2(int(root.Fd()), strings.TrimPrefix(dir, "/"), &how)
	if err != nil {
		return nil, false, fmt.Errorf("open the testbed's %s: %w", dir, os.NewSyscallError("openat2", err))
	}
	defer unix.Close(fd)
	var inside, host unix.Stat_t
	if unix.Fstat(fd, &inside) == nil && unix.Stat(dir, &host) == nil {
		shared = idOf(&inside) == idOf(&host)
	}
	names, err := readNames(fd, ".")
	if err != nil {
		return nil, false, fmt.Errorf("list the testbed's %s: %w", dir, err)
	}
	for _, n := range names {
		var inside, host unix.Stat_t
		// A file that went meanwhile is not left.
		if unix.Fstatat(fd, n, &inside, unix.AT_SYMLINK_NOFOLLOW) != nil {
			continue
		}
		if unix.Fstatat(unix.AT_FDCWD, filepath.Join(dir, n), &host, unix.AT_SYMLINK_NOFOLLOW) != nil {
			continue
		}
		if id := idOf(&host); id == idOf(&inside) && !before[id] {
			left = append(left, n)
		}
	}
	return left, shared, nil
}

// readNames lists the directory path, relative to dirfd.
func readNames(dirfd int, path string) ([]string, error) {
	fd, err := unix.Openat(dirfd, path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	return f.Readdirnames(-1)
}
