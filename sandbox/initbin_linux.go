package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// The binary the stages a caller starts run as (init, reclaim, the probe,
// and the mapped stage before init or reclaim): by default the caller's own,
// re-executed through /proc/self/exe; after SetInitBinary, the lean init
// (cmd/sdbuild-init), which starts in a fraction of the CPU time a large
// binary's runtime, dynamic loader and package initialisation take. A stage
// that starts another (mapped execs init, init starts the payload)
// re-executes itself, so every process of a sandbox is the same binary and
// parent and child never disagree on the protocol within it.

// InitName is the lean init's file name, installed beside sdbuildd.
const InitName = "sdbuild-init"

// LibexecInit is where sdbuild, installed in $(PREFIX)/bin, finds the
// lean init installed beside sdbuildd in $(PREFIX)/libexec/sdbuild:
// relative to its own directory.
const LibexecInit = "../libexec/sdbuild/" + InitName

// initBinary is the lean init, held open so that every stage runs the very
// file SetInitBinary checked; nil: stages re-execute our own binary. Set
// once, from main, before any sandbox starts.
var initBinary *os.File

// SetInitBinary makes every stage this process starts from now on run the
// program at path, which calls MaybeInit first thing in main
// (cmd/sdbuild-init), instead of re-executing this process's binary. The
// file is opened here, once, and each stage is started from that open
// file: replacing or removing path later (a package upgrade) changes
// nothing for this process. Call it at most once, from main, before the
// first sandbox starts.
func SetInitBinary(path string) error {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open init binary %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return fmt.Errorf("init binary %s: %w", path, os.NewSyscallError("fstat", err))
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0 {
		unix.Close(fd)
		return fmt.Errorf("init binary %s: %w (mode %#o)", path, ErrNotExecutable, st.Mode)
	}
	initBinary = os.NewFile(uintptr(fd), path)
	return nil
}

// InitBinary is the path of the program stages run as (SetInitBinary), or
// "" when they re-execute this process's own binary.
func InitBinary() string {
	if initBinary == nil {
		return ""
	}
	return initBinary.Name()
}

// UseInstalledInit looks for the lean init at each of rels, paths relative
// to the directory of this process's executable, in order, and uses the
// first that exists (SetInitBinary). It returns the path it uses, or ""
// when there is none: stages then re-execute this binary, which works as
// well, only each build's init costs more CPU. A file that is there but
// cannot be used is an error; then none is used.
func UseInstalledInit(rels ...string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("look for %s: %w", InitName, err)
	}
	return useInit(filepath.Dir(exe), rels...)
}

// useInit is UseInstalledInit with rels relative to dir.
func useInit(dir string, rels ...string) (string, error) {
	for _, rel := range rels {
		path := filepath.Join(dir, rel)
		err := SetInitBinary(path)
		switch {
		case err == nil:
			return path, nil
		case !errors.Is(err, fs.ErrNotExist):
			return "", err
		}
	}
	return "", nil
}

// setStagePath points cmd, which starts a stage, at the binary stages run
// as. The lean init is passed as the last of ExtraFiles and executed
// through that fd in the child: exec.Cmd's child moves fds about before
// it execs, and the number ExtraFiles gives a file is the one certain to
// name it there (runc hit exactly this, its issue 4294). The stage so
// inherits an O_PATH fd of its own binary, as good as its /proc/self/exe;
// init marks it close-on-exec with every other fd before anything of the
// build runs.
func setStagePath(cmd *exec.Cmd) {
	if initBinary == nil {
		cmd.Path = "/proc/self/exe"
		return
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, initBinary)
	cmd.Path = fdPath(3 + len(cmd.ExtraFiles) - 1)
}
