package sandbox

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/fscred"
)

// Mount attributes every input and device gets. nodev does not apply to
// device nodes bind-mounted from the host's /dev (they carry their own
// mount), only to the inputs.
const (
	inputAttrs    = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV
	writableAttrs = unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV
)

// bindTree clones the host tree at host (recursively, with the new mount
// API so nothing is resolved twice), applies attrs to every mount in it and
// attaches it at the O_PATH fd target.
func bindTree(host string, target int, attrs uint64) error {
	return bindTreeAt(unix.AT_FDCWD, host, 0, target, attrs)
}

// bindTreeAt is bindTree for the tree at path below dirfd (flags:
// AT_EMPTY_PATH for dirfd itself).
func bindTreeAt(dirfd int, path string, flags int, target int, attrs uint64) error {
	tree, err := unix.OpenTree(dirfd, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|uint(flags))
	if err != nil {
		return os.NewSyscallError("open_tree", err)
	}
	defer unix.Close(tree)
	attr := unix.MountAttr{Attr_set: attrs, Propagation: unix.MS_PRIVATE}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		return os.NewSyscallError("mount_setattr", err)
	}
	if err := unix.MoveMount(tree, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return os.NewSyscallError("move_mount", err)
	}
	return nil
}

// openInput opens the input's host path, without following its last
// element, as an O_PATH fd, and checks that whoever it is opened for may
// read it. Everything after works on the fd: the path is resolved once,
// so an input swapped for a symlink after the check leads nowhere new.
func openInput(m Mount, client *fscred.Cred) (fd int, st unix.Stat_t, err error) {
	open := func() error {
		fd, err = unix.Open(m.Host, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return os.NewSyscallError("fstat", err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return nil // recreated as a symlink, never followed
		}
		mode := uint32(unix.R_OK)
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			mode |= unix.X_OK
		}
		if err := unix.Faccessat2(fd, "", mode, unix.AT_EMPTY_PATH|unix.AT_EACCESS); err != nil {
			unix.Close(fd)
			return fmt.Errorf("not readable: %w", err)
		}
		return nil
	}
	if m.Client && client != nil {
		err = fscred.DoOnThread(*client, open)
		if err != nil {
			err = fmt.Errorf("as uid %d: %w", client.UID, err)
		}
	} else {
		err = open()
	}
	return fd, st, err
}

// mountInput makes one input appear in the root: a symlink as the same
// symlink (merged-/usr systems link /bin to usr/bin), anything else as a
// locked, read-only, nosuid, nodev recursive bind mount.
func mountInput(rootfd int, m Mount, client *fscred.Cred) error {
	in, st, err := openInput(m, client)
	if err != nil {
		return fmt.Errorf("input %s: %w", m, err)
	}
	defer unix.Close(in)
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		target, err := readlinkFd(in)
		if err != nil {
			return fmt.Errorf("input %s: %w", m, err)
		}
		if err := symlinkAt(rootfd, m.Sandbox, target); err != nil {
			return fmt.Errorf("input %s: %w", m, err)
		}
		return nil
	}
	var fd int
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		fd, err = openDirAt(rootfd, m.Sandbox, 0o755)
	} else {
		fd, err = openFileAt(rootfd, m.Sandbox)
	}
	if err != nil {
		return fmt.Errorf("input %s: mount point: %w", m, err)
	}
	defer unix.Close(fd)
	if err := bindTreeAt(in, "", unix.AT_EMPTY_PATH, fd, inputAttrs); err != nil {
		return fmt.Errorf("input %s: bind: %w", m, err)
	}
	return nil
}

// readlinkFd reads the target of the symlink an O_PATH fd holds.
func readlinkFd(fd int) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", os.NewSyscallError("readlinkat", err)
	}
	return string(buf[:n]), nil
}

// mountFS mounts a new file system of type fstype on the directory rel
// below rootfd.
func mountFS(rootfd int, rel, fstype string, flags uintptr, data string) error {
	fd, err := openDirAt(rootfd, rel, 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Mount(fstype, fdPath(fd), fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", fstype, rel, err)
	}
	return nil
}

// bindWritable binds one of the build's own host directories (which init
// created and the build has not yet run in) writable, nosuid and nodev.
func bindWritable(rootfd int, host, rel string) error {
	fd, err := openDirAt(rootfd, rel, 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := bindTree(host, fd, writableAttrs); err != nil {
		return fmt.Errorf("bind %s on %s: %w", host, rel, err)
	}
	return nil
}

// setReadOnly makes the single mount at rel read-only, nosuid and nodev.
func setReadOnly(rel string, extra uint64) error {
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | extra}
	if err := unix.MountSetattr(unix.AT_FDCWD, rel, 0, &attr); err != nil {
		return fmt.Errorf("make %s read-only: %w", rel, err)
	}
	return nil
}

// pivotInto makes the tmpfs at rootfd the root of init's mount namespace
// and detaches the host's root beneath it. pivot_root(".", ".") stacks the
// old root on the new one, so unmounting "." removes exactly the old root
// (the runc trick that needs no directory for the old root).
func pivotInto(rootfd int) error {
	if err := unix.Fchdir(rootfd); err != nil {
		return os.NewSyscallError("fchdir", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return os.NewSyscallError("pivot_root", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return os.NewSyscallError("chdir", err)
	}
	return nil
}

// hostDir names one of the build's own directories on the host.
func (s *Spec) hostDir(name string) string { return filepath.Join(s.Dir, name) }
