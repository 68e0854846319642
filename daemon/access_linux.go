package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/sandbox"
)

// checkAccess checks, with p's own credentials, that p may read every
// input and create the output: the daemon is root, and must not read a
// file for a user who cannot, or write where the user cannot.
//
// The checks run on a thread of their own whose file-system identity is
// switched to p's (setfsuid, setfsgid and setgroups act on one thread in
// the kernel); switching fsuid away from 0 also drops the thread's
// CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH. That thread is never given back
// to the Go scheduler: it exits with the goroutine.
//
// A client with the daemon's own uid (a user's own daemon) is checked
// with the daemon's credentials, which are its own; the daemon could not
// switch to them anyway without CAP_SETGID.
func checkAccess(p *peer, inputs []string, output string) error {
	if p.uid == 0 {
		return nil
	}
	if int(p.uid) == os.Geteuid() {
		return checkPaths(p, inputs, output)
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Deliberately no UnlockOSThread: the thread's credentials changed.
		errc <- checkAccessLocked(p, inputs, output)
	}()
	return <-errc
}

func checkAccessLocked(p *peer, inputs []string, output string) error {
	gids := make([]int, len(p.gids))
	for i, g := range p.gids {
		gids[i] = int(g)
	}
	if err := unix.Setgroups(gids); err != nil {
		return fmt.Errorf("check access as %s: setgroups: %w", p.name, err)
	}
	unix.Setfsgid(int(p.gid))
	unix.Setfsuid(int(p.uid))
	return checkPaths(p, inputs, output)
}

// checkPaths checks that the calling thread's credentials may read every
// input and create the output.
func checkPaths(p *peer, inputs []string, output string) error {
	for _, in := range inputs {
		m, err := sandbox.ParseMount(in)
		if err != nil {
			return err
		}
		st, err := os.Lstat(m.Host)
		if err != nil {
			return fmt.Errorf("input %s: user %s cannot read it: %w", m.Host, p.name, unwrapPath(err))
		}
		mode := uint32(unix.R_OK)
		if st.IsDir() {
			mode |= unix.X_OK
		}
		if st.Mode()&os.ModeSymlink == 0 {
			if err := unix.Faccessat(unix.AT_FDCWD, m.Host, mode, unix.AT_EACCESS); err != nil {
				return fmt.Errorf("input %s: user %s cannot read it: %w", m.Host, p.name, err)
			}
		}
	}
	if output != "" {
		parent := filepath.Dir(output)
		if err := unix.Faccessat(unix.AT_FDCWD, parent, unix.W_OK|unix.X_OK, unix.AT_EACCESS); err != nil {
			return fmt.Errorf("output %s: user %s cannot create entries in %s: %w", output, p.name, parent, err)
		}
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
