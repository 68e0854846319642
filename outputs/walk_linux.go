package outputs

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// copier copies one build-written source tree into one fresh destination
// tree. Source entries are reached only by name relative to an open directory
// fd of the source; destination entries only relative to an open directory fd
// of the destination, which is ours and unreachable by anyone else until
// Copy publishes it.
type copier struct {
	owner Owner
	// dstDev and dstIno identify the destination's root directory, so that a
	// dst inside src is refused instead of copied into itself forever.
	dstDev, dstIno uint64
}

// copyDir copies the entries of the open source directory src into the open,
// empty destination directory dst. rel names src for errors, such as $out/sub.
func (c *copier) copyDir(src, dst int, rel string) error {
	names, err := readNames(src)
	if err != nil {
		return fmt.Errorf("read output directory %s: %w", rel, err)
	}
	for _, name := range names {
		if err := c.copyEntry(src, dst, name, rel+"/"+name); err != nil {
			return err
		}
	}
	return nil
}

// copyEntry copies the entry name of src, whatever its type, into dst.
func (c *copier) copyEntry(src, dst int, name, rel string) error {
	// Names come from getdents, but a name with a slash, or a dot-dot, would
	// let mkdirat and symlinkat below escape the destination; refuse them
	// rather than trust the filesystem under the build tree.
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return fmt.Errorf("output %s: invalid file name %q", rel, name)
	}
	var st unix.Stat_t
	if err := unix.Fstatat(src, name, &st, unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT); err != nil {
		return fmt.Errorf("stat output %s: %w", rel, os.NewSyscallError("fstatat", err))
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return c.copySubdir(src, dst, name, rel, &st)
	case unix.S_IFREG:
		return c.copyFile(src, dst, name, rel, &st)
	case unix.S_IFLNK:
		return c.copySymlink(src, dst, name, rel, &st)
	}
	return &unsupportedFileError{path: rel, kind: kindName(st.Mode)}
}

// copySubdir copies the directory name of src, which fstatat saw as st.
func (c *copier) copySubdir(src, dst int, name, rel string, st *unix.Stat_t) error {
	sfd, err := openBeneath(src, name, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("open output %s: %w", rel, err)
	}
	defer unix.Close(sfd)
	got, err := checkSame(sfd, st, rel)
	if err != nil {
		return err
	}
	if got.Dev == c.dstDev && got.Ino == c.dstIno {
		return fmt.Errorf("output %s: is the destination being created; the output path must not be inside the build's output", rel)
	}

	// 0700 until finish: nobody else may enter while we fill it.
	if err := unix.Mkdirat(dst, name, 0o700); err != nil {
		return fmt.Errorf("create output %s: %w", rel, os.NewSyscallError("mkdirat", err))
	}
	dfd, err := unix.Openat(dst, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open created output %s: %w", rel, os.NewSyscallError("openat", err))
	}
	defer unix.Close(dfd)
	if err := c.copyDir(sfd, dfd, rel); err != nil {
		return err
	}
	return c.finish(dst, name, dfd, got, rel)
}

// copyFile copies the regular file name of src, which fstatat saw as st, into
// a new file in dst. Hard links in src thus become independent files.
func (c *copier) copyFile(src, dst int, name, rel string, st *unix.Stat_t) error {
	sfd, err := openBeneath(src, name, unix.O_RDONLY)
	if err != nil {
		return fmt.Errorf("open output %s: %w", rel, err)
	}
	got, err := checkSame(sfd, st, rel)
	if err == nil {
		// openBeneath set O_NONBLOCK only to survive a swapped-in fifo; on a
		// verified regular file it is meaningless, and os.File must not try
		// to register the fd with its poller.
		if err = unix.SetNonblock(sfd, false); err != nil {
			err = fmt.Errorf("open output %s: %w", rel, os.NewSyscallError("fcntl", err))
		}
	}
	if err != nil {
		unix.Close(sfd)
		return err
	}
	in := os.NewFile(uintptr(sfd), rel)
	defer in.Close()

	dfd, err := unix.Openat(dst, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create output %s: %w", rel, os.NewSyscallError("openat", err))
	}
	out := os.NewFile(uintptr(dfd), rel)
	defer out.Close()

	// Between two *os.File, io.Copy uses copy_file_range(2).
	n, err := io.Copy(out, in)
	if err != nil {
		return fmt.Errorf("copy output %s: %w", rel, err)
	}
	if n != got.Size {
		return fmt.Errorf("output %s: %w: copied %d bytes of %d", rel, ErrChanged, n, got.Size)
	}
	if err := c.finish(dst, name, dfd, got, rel); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("close output %s: %w", rel, err)
	}
	return nil
}

// copySymlink recreates the symlink name of src in dst with the same target
// text. The target is never resolved: it may point anywhere (/etc, ..), and
// that is the output's business, not ours.
func (c *copier) copySymlink(src, dst int, name, rel string, st *unix.Stat_t) error {
	target, err := readlinkat(src, name, st.Size)
	if err != nil {
		return fmt.Errorf("read output symlink %s: %w", rel, err)
	}
	if err := unix.Symlinkat(target, dst, name); err != nil {
		return fmt.Errorf("create output symlink %s: %w", rel, os.NewSyscallError("symlinkat", err))
	}
	if err := unix.Fchownat(dst, name, c.owner.UID, c.owner.GID, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown output symlink %s: %w", rel, os.NewSyscallError("fchownat", err))
	}
	return setMtime(dst, name, st, rel)
}

// finish gives a copied directory or file, open as fd and named name in dir,
// its owner, mode and mtime. It runs after the contents are written, which
// would change the mtime; chmod follows chown, which clears setuid bits.
// Extended attributes are deliberately not copied: security.capability is
// setuid by another name.
func (c *copier) finish(dir int, name string, fd int, st *unix.Stat_t, rel string) error {
	if err := unix.Fchown(fd, c.owner.UID, c.owner.GID); err != nil {
		return fmt.Errorf("chown output %s: %w", rel, os.NewSyscallError("fchown", err))
	}
	if err := unix.Fchmod(fd, outputMode(st.Mode)); err != nil {
		return fmt.Errorf("chmod output %s: %w", rel, os.NewSyscallError("fchmod", err))
	}
	return setMtime(dir, name, st, rel)
}

// setMtime gives the destination entry name in dir the source's mtime; the
// access time is left alone.
func setMtime(dir int, name string, st *unix.Stat_t, rel string) error {
	ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, st.Mtim}
	if err := unix.UtimesNanoAt(dir, name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set mtime of output %s: %w", rel, os.NewSyscallError("utimensat", err))
	}
	return nil
}

// openBeneath opens name, an entry of the build-written directory dir,
// refusing symlinks, magic links and mount crossings anywhere in the lookup
// (CVE-2021-27851). O_NONBLOCK keeps a fifo swapped in for a regular file
// from blocking the open forever; O_NOCTTY keeps a swapped-in terminal from
// becoming the daemon's controlling terminal.
func openBeneath(dir int, name string, flags int) (int, error) {
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	}
	var err error
	// RESOLVE_BENEATH fails with EAGAIN when a rename anywhere on the system
	// races the lookup; retrying a few times is what openat2(2) asks for.
	for range 16 {
		var fd int
		fd, err = unix.Openat2(dir, name, &how)
		switch err {
		case nil:
			return fd, nil
		case unix.EINTR, unix.EAGAIN:
			continue
		case unix.EXDEV:
			// RESOLVE_NO_XDEV: a build's mounts die with its mount namespace,
			// so a mount point here is one the build should never have had.
			return -1, fmt.Errorf("is a mount point, and outputs must not contain mounts: %w", os.NewSyscallError("openat2", err))
		}
		return -1, os.NewSyscallError("openat2", err)
	}
	return -1, os.NewSyscallError("openat2", err)
}

// checkSame returns fd's stat if fd is the inode that fstatat saw as want,
// with the same file type: the name may have been swapped between the two
// calls, and the swapped-in inode must not be copied under want's checks.
func checkSame(fd int, want *unix.Stat_t, rel string) (*unix.Stat_t, error) {
	var got unix.Stat_t
	if err := unix.Fstat(fd, &got); err != nil {
		return nil, fmt.Errorf("stat output %s: %w", rel, os.NewSyscallError("fstat", err))
	}
	if got.Dev != want.Dev || got.Ino != want.Ino || got.Mode&unix.S_IFMT != want.Mode&unix.S_IFMT {
		return nil, fmt.Errorf("output %s: %w", rel, ErrChanged)
	}
	return &got, nil
}

// readlinkat reads the target of the symlink name in dir, whose lstat size
// was size. readlinkat(2) never follows the link it reads.
func readlinkat(dir int, name string, size int64) (string, error) {
	n := max(int(size)+1, 256)
	for {
		buf := make([]byte, n)
		got, err := unix.Readlinkat(dir, name, buf)
		if err != nil {
			return "", os.NewSyscallError("readlinkat", err)
		}
		if got < len(buf) {
			return string(buf[:got]), nil
		}
		if n >= 1<<16 {
			return "", fmt.Errorf("readlinkat: target longer than %d bytes", n)
		}
		n *= 2
	}
}

// readNames lists the directory open as fd, sorted so that errors are
// reproducible.
func readNames(fd int) ([]string, error) {
	var names []string
	buf := make([]byte, 32<<10)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, os.NewSyscallError("getdents64", err)
		}
		if n <= 0 {
			break
		}
		// ParseDirent drops "." and "..".
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	slices.Sort(names)
	return names, nil
}
