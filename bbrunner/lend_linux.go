package bbrunner

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/sandbox"
)

// maxDepth bounds how deep the walks below go: each level holds one fd,
// and an action can nest directories as deep as it likes.
const maxDepth = 1024

// owner is a uid and gid on the host.
type owner struct{ uid, gid uint32 }

// lendDirs gives every directory of the tree at fd (the directory itself
// included) to the build's first ids; files keep their owner. The worker
// made these directories for this action alone, and the action has not
// started, so nothing else changes the tree meanwhile.
func lendDirs(fd int, ids build.IDs) error {
	return walkDirs(fd, ".", 0, func(dfd int) error {
		if err := unix.Fchown(dfd, int(ids.UID), int(ids.GID)); err != nil {
			return os.NewSyscallError("fchown", err)
		}
		return nil
	})
}

// walkDirs calls fn on the directory fd, then on every directory below
// it, never following a symlink.
func walkDirs(fd int, name string, depth int, fn func(fd int) error) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: directories nested deeper than %d", name, maxDepth)
	}
	if err := fn(fd); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return eachEntry(fd, name, func(ent string, typ uint8) error {
		if typ != unix.DT_DIR {
			return nil
		}
		sub, err := unix.Openat(fd, ent, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", name, ent, err)
		}
		defer unix.Close(sub)
		return walkDirs(sub, name+"/"+ent, depth+1, fn)
	})
}

// eachEntry calls fn for every entry of the directory fd but . and ..,
// with its type (DT_DIR, DT_LNK, DT_REG or DT_UNKNOWN for anything else).
func eachEntry(fd int, name string, fn func(ent string, typ uint8) error) error {
	// A fresh open file description: reading the directory moves its
	// offset, and fd may be read again by a later walk.
	dfd, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	dir := os.NewFile(uintptr(dfd), name)
	defer dir.Close()
	ents, err := dir.ReadDir(-1)
	if err != nil {
		return fmt.Errorf("%s: read directory: %w", name, err)
	}
	for _, e := range ents {
		// ReadDir's types come from d_type, or from lstat when the file
		// system gives none: never from a link's target.
		typ := uint8(unix.DT_UNKNOWN)
		switch t := e.Type(); {
		case t.IsDir():
			typ = unix.DT_DIR
		case t&os.ModeSymlink != 0:
			typ = unix.DT_LNK
		case t.IsRegular():
			typ = unix.DT_REG
		}
		if err := fn(e.Name(), typ); err != nil {
			return err
		}
	}
	return nil
}

// reclaim hands everything below and including the directory fd that
// the build's ids own back to the worker (to), without following a link;
// directories also get u+rwx, so that a worker that is not root can
// empty them. Every process of the build is dead: nothing changes the
// tree meanwhile.
func reclaim(fd int, ids build.IDs, to owner) error {
	ours := func(st *unix.Stat_t) bool {
		return (st.Uid >= ids.UID && st.Uid-ids.UID < ids.Count) || (st.Gid >= ids.GID && st.Gid-ids.GID < ids.Count)
	}
	return walkDirs(fd, ".", 0, func(dfd int) error {
		var st unix.Stat_t
		if err := unix.Fstat(dfd, &st); err != nil {
			return os.NewSyscallError("fstat", err)
		}
		if ours(&st) {
			if err := unix.Fchown(dfd, int(to.uid), int(to.gid)); err != nil {
				return os.NewSyscallError("fchown", err)
			}
			if st.Mode&0o700 != 0o700 {
				if err := unix.Fchmod(dfd, st.Mode&0o7777|0o700); err != nil {
					return os.NewSyscallError("fchmod", err)
				}
			}
		}
		return eachEntry(dfd, ".", func(ent string, typ uint8) error {
			if typ == unix.DT_DIR {
				return nil // walkDirs visits it
			}
			var st unix.Stat_t
			if err := unix.Fstatat(dfd, ent, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fmt.Errorf("%s: %w", ent, err)
			}
			if !ours(&st) {
				return nil
			}
			// chown clears set-user-ID and set-group-ID on the way: an
			// action cannot make a set-id file of the worker's.
			if err := unix.Fchownat(dfd, ent, int(to.uid), int(to.gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fmt.Errorf("%s: %w", ent, os.NewSyscallError("fchownat", err))
			}
			return nil
		})
	})
}

// openDir opens the directory rel beneath base for the walks.
func openDir(base int, rel string) (int, error) {
	return sandbox.OpenBeneath(base, rel, unix.O_RDONLY|unix.O_DIRECTORY, 0)
}
