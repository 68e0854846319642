package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/fscred"
	"github.com/sdbuild/sdbuild/sandbox"
)

// checkAccess checks, with p's own credentials, that p may read every
// input and create the output: the daemon is root, and must not read a
// file for a user who cannot, or write where the user cannot. It gives a
// clear refusal before anything is queued; the build itself opens the
// inputs, and creates the output, as p again when it uses them (see
// fscred), so what p changes on those paths in between gains it nothing.
func checkAccess(p *peer, inputs []string, output string) error {
	if p.uid == 0 {
		return nil
	}
	return fscred.Do(p.cred(), func() error { return checkPaths(p, inputs, output) })
}

// cred is p's file-system identity.
func (p *peer) cred() fscred.Cred {
	return fscred.Cred{UID: int(p.uid), GID: int(p.gid), Groups: p.groupIDs()}
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
