package sandbox

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// actionStderrFd is the fd on which init gets an action's stderr pipe,
// after the control socket (3).
const actionStderrFd = 4

// ResolveBeneath is how every path a worker's request names is resolved,
// by init here and by the runner service: below its directory, never
// through a symlink or a /proc magic link, never across "..".
const ResolveBeneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// OpenBeneath opens rel below dirfd with openat2 confined by
// ResolveBeneath; rel "" or "." is dirfd's own directory.
func OpenBeneath(dirfd int, rel string, flags uint64, mode uint64) (int, error) {
	if rel == "" {
		rel = "."
	}
	for {
		fd, err := unix.Openat2(dirfd, rel, &unix.OpenHow{Flags: flags | unix.O_CLOEXEC, Mode: mode, Resolve: ResolveBeneath})
		if err == unix.EINTR || err == unix.EAGAIN {
			// EAGAIN: a rename raced the lookup; the kernel asks for a retry.
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "openat2", Path: rel, Err: err}
		}
		return fd, nil
	}
}

// bindActionDirs binds the action's directories writable (nosuid, nodev)
// at their host paths. Each is resolved beneath the shared build
// directory, and the tree cloned from that very fd.
func bindActionDirs(rootfd int, s *Spec) error {
	a := s.Action
	if a == nil {
		return nil
	}
	base, err := unix.Open(a.Base, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open action build directory %s: %w", a.Base, err)
	}
	defer unix.Close(base)
	for _, rel := range a.Binds {
		if err := bindActionDir(rootfd, base, a, rel); err != nil {
			return err
		}
	}
	return nil
}

func bindActionDir(rootfd, base int, a *Action, rel string) error {
	src, err := OpenBeneath(base, rel, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("action directory %s in %s: %w", rel, a.Base, err)
	}
	defer unix.Close(src)
	dst, err := openDirAt(rootfd, a.BindPath(rel), 0o755)
	if err != nil {
		return fmt.Errorf("action directory %s: mount point: %w", rel, err)
	}
	defer unix.Close(dst)
	if err := bindTreeAt(src, "", unix.AT_EMPTY_PATH, dst, writableAttrs); err != nil {
		return fmt.Errorf("action directory %s: bind: %w", rel, err)
	}
	return nil
}
