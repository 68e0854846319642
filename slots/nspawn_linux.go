package slots

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// take locks every base in bases for one more holder, or none of them:
// busy reports that a base is held elsewhere (by a container, or by
// another process's pool), and the slot must then be skipped.
func (n *nspawnLocks) take(bases []uint32) (busy bool, err error) {
	if n.dir == "" || len(bases) == 0 {
		return false, nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, b := range bases {
		if h := n.held[b]; h != nil {
			h.refs++
			continue
		}
		fd, busy, err := lockNspawnBase(n.dir, b)
		if err != nil || busy {
			n.dropLocked(bases[:i])
			return busy, err
		}
		if n.held == nil {
			n.held = map[uint32]*nspawnHold{}
		}
		n.held[b] = &nspawnHold{fd: fd, refs: 1}
	}
	return false, nil
}

// drop gives up one hold on each base in bases.
func (n *nspawnLocks) drop(bases []uint32) error {
	if n.dir == "" || len(bases) == 0 {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dropLocked(bases)
}

func (n *nspawnLocks) dropLocked(bases []uint32) error {
	var errs []error
	for _, b := range bases {
		h := n.held[b]
		if h == nil {
			continue
		}
		if h.refs--; h.refs > 0 {
			continue
		}
		delete(n.held, b)
		if err := unlockNspawnBase(n.dir, b, h.fd); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func nspawnLockPath(dir string, base uint32) string {
	return filepath.Join(dir, strconv.FormatUint(uint64(base), 10))
}

// lockNspawnBase takes nspawn's lock on the range at base without waiting.
// It returns fd -1 and no error when dir cannot exist because its parent
// does not (no /run/systemd): nspawn creates only dir itself, so there it
// fails to open its lock file and picks no range at all.
func lockNspawnBase(dir string, base uint32) (fd int, busy bool, err error) {
	path := nspawnLockPath(dir, base)
	// Each retry follows a holder that unlinked the file between our open
	// and our lock, so they end; the bound is for a file system gone wrong.
	for range 16 {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NOCTTY|unix.O_CLOEXEC, 0o600)
		if err == unix.ENOENT {
			switch err := unix.Mkdir(dir, 0o755); err {
			case nil, unix.EEXIST:
				continue
			case unix.ENOENT:
				return -1, false, nil
			default:
				return -1, false, fmt.Errorf("lock nspawn range %d: %w", base, &os.PathError{Op: "mkdir", Path: dir, Err: err})
			}
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, false, fmt.Errorf("lock nspawn range %d: %w", base, &os.PathError{Op: "open", Path: path, Err: err})
		}
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
		if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk); err != nil {
			unix.Close(fd)
			if err == unix.EAGAIN || err == unix.EACCES {
				return -1, true, nil
			}
			return -1, false, fmt.Errorf("lock nspawn range %d (%s): %w", base, path, os.NewSyscallError("fcntl F_OFD_SETLK", err))
		}
		// nspawn unlinks its file while still holding the lock; a lock
		// won on an unlinked inode guards nothing, so start again.
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return -1, false, fmt.Errorf("lock nspawn range %d (%s): %w", base, path, os.NewSyscallError("fstat", err))
		}
		if st.Nlink > 0 {
			return fd, false, nil
		}
		unix.Close(fd)
	}
	return -1, false, fmt.Errorf("lock nspawn range %d (%s): unlinked under us 16 times; check what removes files in %s", base, path, dir)
}

// unlockNspawnBase unlinks the lock file, still holding its lock, and then
// closes it, as nspawn does: whoever opened the old inode meanwhile finds
// it unlinked once it gets the lock, and retries on a fresh file.
func unlockNspawnBase(dir string, base uint32, fd int) error {
	if fd < 0 {
		return nil
	}
	path := nspawnLockPath(dir, base)
	var errs []error
	if err := unix.Unlink(path); err != nil && err != unix.ENOENT {
		errs = append(errs, fmt.Errorf("unlock nspawn range %d: %w", base, &os.PathError{Op: "unlink", Path: path, Err: err}))
	}
	if err := closeFD(fd); err != nil {
		errs = append(errs, fmt.Errorf("unlock nspawn range %d (%s): %w", base, path, err))
	}
	return errors.Join(errs...)
}
