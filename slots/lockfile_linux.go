package slots

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// prepareDir creates the lock directory 0700 if missing and refuses one that
// others could write: whoever can replace a lock file can lease a slot that
// a build is using.
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create lock dir %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("check lock dir %s: %w", dir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("check lock dir %s: %w", dir, syscall.ENOTDIR)
	case !ok || int(st.Uid) != os.Geteuid():
		return fmt.Errorf("check lock dir %s: not owned by uid %d; chown it", dir, os.Geteuid())
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("check lock dir %s: mode %v is writable by group or others; chmod 0700 it", dir, fi.Mode().Perm())
	}
	return nil
}

// lockSlotFile opens path afresh (creating it 0600) and takes a non-blocking
// exclusive flock on the new open file description. A flock belongs to the
// open file description, not the process, so a second open in this same
// process is refused too. busy reports that someone else holds it.
func lockSlotFile(path string) (fd int, busy bool, err error) {
	for {
		fd, err = unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return -1, false, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		unix.Close(fd)
		if err == unix.EWOULDBLOCK {
			return -1, true, nil
		}
		return -1, false, os.NewSyscallError("flock", err)
	}
	return fd, false, nil
}

// readFD reads a whole lock file through its locked descriptor.
func readFD(fd int) ([]byte, error) {
	b := make([]byte, 512)
	n := 0
	for {
		m, err := unix.Pread(fd, b[n:], int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, os.NewSyscallError("pread", err)
		}
		if m == 0 {
			return b[:n], nil
		}
		n += m
		if n == len(b) {
			if n >= maxRecordSize {
				return nil, fmt.Errorf("%w: longer than %d bytes", ErrBadRecord, maxRecordSize)
			}
			b = append(b, make([]byte, len(b))...)
		}
	}
}

// writeRecord replaces the lock file's content in place. Not write-and-rename:
// the flock is on this inode, and a renamed-in file would be a new, unlocked
// one. The new line is written before the truncate, so a crash in between
// leaves the complete new record as the first line (see decodeRecord).
func writeRecord(fd int, r Record) error {
	b, err := encodeRecord(r)
	if err != nil {
		return err
	}
	for off := 0; off < len(b); {
		n, err := unix.Pwrite(fd, b[off:], int64(off))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("pwrite", err)
		}
		if n == 0 {
			return os.NewSyscallError("pwrite", io.ErrShortWrite)
		}
		off += n
	}
	if err := unix.Ftruncate(fd, int64(len(b))); err != nil {
		return os.NewSyscallError("ftruncate", err)
	}
	// No fsync: the record protects against the daemon dying, and the page
	// cache outlives the daemon. A power loss or kernel crash kills every
	// holder with it, so a lost record can name nothing still running.
	return nil
}

// closeFD unlocks and closes a lock file. A flock belongs to the open
// file, which a child forked meanwhile shares until its exec closes its
// copy (the daemon forks sandbox inits at any time), so closing alone
// could leave the slot locked for a moment after its lease ended.
func closeFD(fd int) error {
	if err := unix.Flock(fd, unix.LOCK_UN); err != nil && !errors.Is(err, unix.EINTR) {
		unix.Close(fd)
		return os.NewSyscallError("flock unlock", err)
	}
	if err := unix.Close(fd); err != nil && !errors.Is(err, unix.EINTR) {
		return os.NewSyscallError("close", err)
	}
	return nil
}
