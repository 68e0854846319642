package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// Reclaim gives everything below the build directory s.Dir back to the
// caller, for a spec with UserNS: a build on subordinate ids leaves files
// the caller (no root) can neither read nor delete, and any build can
// leave directories without search permission. It runs a helper in a
// user namespace mapped like init's, where the caller is root over the
// build's ids: it chowns every entry to the caller and gives the owner
// read and write (and search on directories), never following a link.
// Call it only when no process of the build is left. Without UserNS it
// does nothing: root reads and deletes anything.
func Reclaim(s *Spec) error {
	if s.UserNS == nil {
		return nil
	}
	if _, err := os.Lstat(s.Dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	attr := &syscall.SysProcAttr{}
	s.UserNS.applyUserNS(attr)
	// With subordinate ids the helper waits for "mapped" on its fd 3 (see
	// mappedMain).
	release, gate, err := socketPair("sdbuild-reclaim", false)
	if err != nil {
		return fmt.Errorf("reclaim %s: %w", s.Dir, err)
	}
	var out bytes.Buffer
	cmd := &exec.Cmd{
		Args: s.UserNS.stageArgs(reclaimArg0, s.Dir),
		Env:  []string{"GOMAXPROCS=1"}, Stdout: &out, Stderr: &out,
		ExtraFiles: []*os.File{gate}, SysProcAttr: attr,
	}
	setStagePath(cmd)
	err = cmd.Start()
	gate.Close()
	if err != nil {
		release.Close()
		return fmt.Errorf("reclaim %s: %w", s.Dir, err)
	}
	merr := s.mapUserNS(cmd.Process.Pid)
	if merr == nil && s.UserNS.Sub {
		merr = sendMapped(newConn(release))
	}
	if merr != nil {
		cmd.Process.Kill()
	}
	release.Close()
	werr := cmd.Wait()
	switch {
	case merr != nil:
		return fmt.Errorf("reclaim %s: %w", s.Dir, merr)
	case werr != nil:
		return fmt.Errorf("reclaim %s: %w: %s", s.Dir, werr, strings.TrimSpace(out.String()))
	}
	return nil
}

// reclaimMain is the helper: root of a user namespace mapped like init's.
func reclaimMain() int {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sdbuild-sandbox-reclaim DIR")
		return 2
	}
	fd, err := unix.Open(os.Args[1], unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "open %s: %v\n", os.Args[1], err)
		return 1
	}
	if err := reclaimBuildDir(fd, os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// access is the permission Reclaim adds for the owner: what the caller
// needs to do with a tree.
type access struct{ file, dir uint32 }

var (
	// toDelete: the build's scratch directories, which are only deleted.
	toDelete = access{file: 0o600, dir: 0o700}
	// toCopy: $out, which is copied out with its modes (outputs.Copy
	// keeps the owner's bits), so only read and search are added; a 0555
	// directory stays 0555, and outputs.Remove opens it for deletion.
	toCopy = access{file: 0o400, dir: 0o500}
)

// accessFor is what a build directory's subdirectory name needs.
func accessFor(name string) access {
	if name == "out" || name == OutDir {
		return toCopy
	}
	return toDelete
}

// reclaimBuildDirs reclaims the build's writable directories from inside
// the sandbox (init, after every other process of the build is dead):
// they are mount points the build could not replace.
func reclaimBuildDirs() error {
	for _, d := range []string{BuildDir, TmpDir, OutDir} {
		fd, err := unix.Open(d, unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("reclaim %s: %w", d, err)
		}
		if err := reclaimDir(fd, d, accessFor(d), nil); err != nil {
			return fmt.Errorf("reclaim: %w", err)
		}
	}
	return nil
}

// reclaimCgroup gives the cgroup tree at dir, the build's delegated
// cgroup and every cgroup the build made in it, back to the caller, whose
// systemd could not otherwise remove the cgroups the build made.
func reclaimCgroup(dir *os.File) error {
	if err := cgroup2.ChownTree(dir, 0, 0); err != nil {
		return fmt.Errorf("reclaim: %w", err)
	}
	return nil
}

// reclaimBuildDir reclaims a whole build directory (Spec.Dir) at fd, each
// subdirectory for what it is used for; it closes fd.
func reclaimBuildDir(fd int, name string) error {
	return reclaimDir(fd, name, toDelete, accessFor)
}

// reclaimDir reclaims the directory at fd and everything below it,
// adding a's permissions for the owner, or for each entry directly below
// what sub(entry name) says when sub is not nil; it closes fd.
func reclaimDir(fd int, name string, a access, sub func(string) access) error {
	dir := os.NewFile(uintptr(fd), name)
	defer dir.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat %s: %w", name, err)
	}
	if err := unix.Fchown(fd, 0, 0); err != nil {
		return fmt.Errorf("chown %s: %w", name, err)
	}
	if err := unix.Fchmod(fd, st.Mode&0o7777|a.dir); err != nil {
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	for _, n := range names {
		path := name + "/" + n
		if err := unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("stat %s: %w", path, err)
		}
		if sub != nil {
			a = sub(n)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			child, err := unix.Openat(fd, n, unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("open %s: %w", path, err)
			}
			if err := reclaimDir(child, path, a, nil); err != nil {
				return err
			}
		case unix.S_IFREG:
			if err := unix.Fchownat(fd, n, 0, 0, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fmt.Errorf("chown %s: %w", path, err)
			}
			f, err := unix.Openat(fd, n, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("open %s: %w", path, err)
			}
			// The chown cleared setuid and setgid already.
			err = unix.Fchmod(f, st.Mode&0o777|a.file)
			unix.Close(f)
			if err != nil {
				return fmt.Errorf("chmod %s: %w", path, err)
			}
		default: // symlinks, fifos, sockets, device nodes: the entry itself
			if err := unix.Fchownat(fd, n, 0, 0, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fmt.Errorf("chown %s: %w", path, err)
			}
		}
	}
	return nil
}
