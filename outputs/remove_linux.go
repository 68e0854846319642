package outputs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// Remove deletes a tree the build could write, never following symlinks in it.
//
// It is os.RemoveAll, which on Linux (os/removeall_at.go) is safe here:
// after trying unlink and rmdir on path itself, which remove a symlink rather
// than follow it, it opens path's parent and deletes every entry with
// unlinkat(2) relative to its parent directory's fd, and descends only
// through openat(2) with O_NOFOLLOW|O_DIRECTORY. A symlink, including one
// swapped in for a directory mid-walk, is therefore unlinked or refused,
// never entered (CVE-2021-27851; the 2025 build-directory races in Nix, Lix
// and Guix). Only path and its parent are resolved as paths, so the parent
// must not be writable by the build.
//
// Entering directories the build made unreadable or read-only (mode 0000,
// 0555) needs CAP_DAC_OVERRIDE, which the system daemon has (root). A
// user's own daemon owns such directories once sandbox.Reclaim has run, so
// when the first attempt fails for want of permission, Remove gives the
// owner rwx on every directory it owns (through directory fds, never
// following a link) and tries again.
func Remove(path string) error {
	err := os.RemoveAll(path)
	if errors.Is(err, fs.ErrPermission) {
		openOwnDirs(unix.AT_FDCWD, path)
		err = os.RemoveAll(path)
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// openOwnDirs gives the owner rwx on the directory name below dirfd and on
// every directory beneath it that this process owns, so that it can
// delete their entries. Directories are opened O_PATH without following
// links, changed through their /proc/self/fd entry (which names the
// opened inode itself), and only then opened for reading. It does what it
// can and reports nothing: Remove's second attempt says what is left.
func openOwnDirs(dirfd int, name string) {
	p, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(p)
	var st unix.Stat_t
	if unix.Fstat(p, &st) != nil || int(st.Uid) != os.Geteuid() {
		return
	}
	if st.Mode&0o700 != 0o700 && unix.Chmod(fmt.Sprintf("/proc/self/fd/%d", p), st.Mode&0o7777|0o700) != nil {
		return
	}
	fd, err := unix.Openat(p, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	dir := os.NewFile(uintptr(fd), name)
	defer dir.Close()
	names, _ := dir.Readdirnames(-1)
	for _, n := range names {
		if unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			openOwnDirs(fd, n)
		}
	}
}
