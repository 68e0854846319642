package outputs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// rootName is how errors name the output's root; entries below it read
// $out/sub/file.
const rootName = "$out"

// Copy copies the directory tree at src to dst, which must not exist, as fresh inodes owned by owner.
//
// src must be a real directory, not a symlink to one. Only regular files,
// directories and symlinks are copied; anything else fails the whole Copy
// with an error wrapping ErrUnsupportedFile. Symlinks are recreated with the
// same target text and never followed; hard links become independent files.
// Permission bits are kept except setuid, setgid, sticky, group-write and
// world-write; mtimes are kept; extended attributes are not copied.
//
// dst is the owner's: its parent is resolved, and the output created and
// published in it, with the owner's file-system credentials (see
// fscred.Do), at the moment of creation. So the output appears only where
// the owner could have made it: a directory on the path that the owner
// swapped for a symlink to /etc since the request was checked leads to
// /etc, where the owner may not create anything, and the copy fails with
// the owner's EACCES. Everything after that works relative to the
// directory fds so obtained.
//
// The tree is built in a temporary sibling of dst and renamed into place only
// when complete, so dst either holds the whole output or does not exist. If
// dst exists, before or at that rename, the error wraps ErrExists.
//
// Copy needs CAP_CHOWN and CAP_FOWNER to give the output away, and
// CAP_DAC_READ_SEARCH to read entries the build made unreadable; sdbuild's
// daemon runs as root.
func Copy(src, dst string, owner Owner) error {
	if err := owner.check(); err != nil {
		return fmt.Errorf("copy output %s: %w", src, err)
	}
	clean := filepath.Clean(dst)
	parentPath, base := filepath.Dir(clean), filepath.Base(clean)
	if base == "." || base == ".." || base == string(filepath.Separator) {
		return fmt.Errorf("output %s: not a path a new directory can be created at; name a new directory", dst)
	}

	srcFd, err := openSource(src)
	if err != nil {
		return err
	}
	defer unix.Close(srcFd)
	var rootSt unix.Stat_t
	if err := unix.Fstat(srcFd, &rootSt); err != nil {
		return fmt.Errorf("stat output source %s: %w", src, os.NewSyscallError("fstat", err))
	}

	d, err := openDest(parentPath, base, dst, owner)
	if err != nil {
		return err
	}
	defer d.close()
	c := &copier{owner: owner}
	if err := c.build(srcFd, &rootSt, d); err != nil {
		if rmErr := d.removeTemp(); rmErr != nil {
			return errors.Join(err, rmErr)
		}
		return err
	}
	return nil
}

// openSource opens the output's root. O_NOFOLLOW refuses a root that the
// build replaced with a symlink to somewhere it wants copied.
func openSource(src string) (int, error) {
	for {
		fd, err := unix.Open(src, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		switch err {
		case nil:
			return fd, nil
		case unix.EINTR:
			continue
		case unix.ENOTDIR, unix.ELOOP:
			return -1, fmt.Errorf("open output source %s: %w; it must be a directory, not a symlink or file", src, err)
		}
		return -1, fmt.Errorf("open output source %s: %w", src, err)
	}
}

// checkAbsent fails early, before any copying, when dst already exists. A
// dangling symlink counts: the rename would not replace it either.
func checkAbsent(parentFd int, base, dst string) error {
	var st unix.Stat_t
	err := unix.Fstatat(parentFd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	switch err {
	case nil:
		return existsError(dst)
	case unix.ENOENT:
		return nil
	}
	return fmt.Errorf("stat output %s: %w", dst, os.NewSyscallError("fstatat", err))
}

// build fills the empty temporary directory of d from the open source
// root, gives it the root's owner, mode and mtime, and publishes it.
func (c *copier) build(srcFd int, rootSt *unix.Stat_t, d *dest) error {
	var tst unix.Stat_t
	if err := unix.Fstat(d.tmpFd, &tst); err != nil {
		return fmt.Errorf("stat temporary output %s: %w", d.tmpBase, os.NewSyscallError("fstat", err))
	}
	c.dstDev, c.dstIno = tst.Dev, tst.Ino

	if err := c.copyDir(srcFd, d.tmpFd, rootName); err != nil {
		return err
	}
	if err := c.finish(d.parentFd, d.tmpBase, d.tmpFd, rootSt, rootName); err != nil {
		return err
	}
	return d.publish()
}
