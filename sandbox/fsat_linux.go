package sandbox

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Everything init creates inside the new root is created relative to
// directory fds, one component at a time, with O_NOFOLLOW: a symlink that
// an input brought into the root (say /lib64 -> /usr/lib64) must never make
// a mount point or a file land outside it, on the host.

// openDirAt opens (creating when missing) the directory rel below dirfd and
// returns an O_PATH fd for it. It refuses to pass through a symlink.
func openDirAt(dirfd int, rel string, perm uint32) (int, error) {
	cur, err := unix.Dup(dirfd)
	if err != nil {
		return -1, os.NewSyscallError("dup", err)
	}
	for _, name := range strings.Split(strings.Trim(rel, "/"), "/") {
		if name == "" {
			continue
		}
		next, err := unix.Openat(cur, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			if err = unix.Mkdirat(cur, name, perm); err != nil && !errors.Is(err, unix.EEXIST) {
				unix.Close(cur)
				return -1, fmt.Errorf("mkdir %s in %s: %w", name, rel, err)
			}
			next, err = unix.Openat(cur, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		}
		unix.Close(cur)
		if err != nil {
			if errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
				return -1, fmt.Errorf("open %s: component %q is not a directory (symlinks are not followed)", rel, name)
			}
			return -1, fmt.Errorf("open %s: %w", rel, err)
		}
		cur = next
	}
	return cur, nil
}

// splitPath splits /a/b/c into /a/b and c.
func splitPath(p string) (dir, base string) {
	i := strings.LastIndexByte(p, '/')
	return p[:i], p[i+1:]
}

// openFileAt opens (creating when missing, empty) the regular file rel
// below dirfd as an O_PATH fd, for a file bind mount to land on.
func openFileAt(dirfd int, rel string) (int, error) {
	dir, base := splitPath("/" + strings.Trim(rel, "/"))
	pfd, err := openDirAt(dirfd, dir, 0o755)
	if err != nil {
		return -1, err
	}
	defer unix.Close(pfd)
	fd, err := unix.Openat(pfd, base, unix.O_CREAT|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return -1, fmt.Errorf("create %s: %w", rel, err)
	}
	unix.Close(fd)
	fd, err = unix.Openat(pfd, base, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", rel, err)
	}
	return fd, nil
}

// writeFileAt creates rel below dirfd with the given content.
func writeFileAt(dirfd int, rel, content string, perm uint32) error {
	dir, base := splitPath("/" + strings.Trim(rel, "/"))
	pfd, err := openDirAt(dirfd, dir, 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	fd, err := unix.Openat(pfd, base, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", rel, err)
	}
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	return nil
}

// symlinkAt creates the symlink rel -> target below dirfd.
func symlinkAt(dirfd int, rel, target string) error {
	dir, base := splitPath("/" + strings.Trim(rel, "/"))
	pfd, err := openDirAt(dirfd, dir, 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	if err := unix.Symlinkat(target, pfd, base); err != nil {
		return fmt.Errorf("symlink %s -> %s: %w", rel, target, err)
	}
	return nil
}

// fdPath names an fd's file for syscalls that only take paths (mount(2)).
// The kernel resolves the magic link to the very file the fd holds, never
// re-walking a path.
func fdPath(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }
