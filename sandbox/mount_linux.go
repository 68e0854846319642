package sandbox

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
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
	tree, err := unix.OpenTree(unix.AT_FDCWD, host, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
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

// mountInput makes one input appear in the root: a symlink as the same
// symlink (merged-/usr systems link /bin to usr/bin), anything else as a
// locked, read-only, nosuid, nodev recursive bind mount.
func mountInput(rootfd int, m Mount) error {
	st, err := os.Lstat(m.Host)
	if err != nil {
		return fmt.Errorf("input %s: %w", m, err)
	}
	if st.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(m.Host)
		if err != nil {
			return fmt.Errorf("input %s: %w", m, err)
		}
		if err := symlinkAt(rootfd, m.Sandbox, target); err != nil {
			return fmt.Errorf("input %s: %w", m, err)
		}
		return nil
	}
	var fd int
	if st.IsDir() {
		fd, err = openDirAt(rootfd, m.Sandbox, 0o755)
	} else {
		fd, err = openFileAt(rootfd, m.Sandbox)
	}
	if err != nil {
		return fmt.Errorf("input %s: mount point: %w", m, err)
	}
	defer unix.Close(fd)
	if err := bindTree(m.Host, fd, inputAttrs); err != nil {
		return fmt.Errorf("input %s: bind: %w", m, err)
	}
	return nil
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
