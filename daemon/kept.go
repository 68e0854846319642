package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sdbuild/sdbuild/history"
	"github.com/sdbuild/sdbuild/outputs"
)

// Kept build directories (--keep, --keep-failed) live in
// <kept-root>/<uid>/<build id>: kept-root is the daemon's (0755), each
// <uid> directory its user's (0700), made by the build runner. A user may
// change anything below their own <uid> directory, and nothing above it.

// collectKept removes kept build directories of builds that finished
// before cutoff, or that the history no longer knows, and returns how many
// it removed. outputs.Remove never follows a symlink below the path it is
// given, and the path's directories above <id> cannot be replaced by the
// user: kept-root is the daemon's, and <uid> is an entry of it.
func (d *Daemon) collectKept(cutoff time.Time) (int, error) {
	root := d.cfg.KeptRoot()
	users, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("collect kept build directories in %s: %w", root, err)
	}
	n := 0
	var errs []error
	for _, u := range users {
		if _, err := strconv.ParseUint(u.Name(), 10, 32); err != nil || !u.IsDir() {
			continue
		}
		dir := filepath.Join(root, u.Name())
		ents, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range ents {
			id := e.Name()
			if d.isActive(id) {
				continue
			}
			b, err := d.store.Get(id)
			switch {
			case errors.Is(err, history.ErrNotFound):
			case err != nil:
				errs = append(errs, err)
				continue
			case !b.Finished.Before(cutoff) || strconv.FormatUint(uint64(b.UID), 10) != u.Name():
				// Young, or not this user's build: a name the user
				// made up is the user's business.
				continue
			}
			if err := outputs.Remove(filepath.Join(dir, id)); err != nil {
				errs = append(errs, err)
				continue
			}
			n++
		}
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("collect kept build directories: %w", errors.Join(errs...))
	}
	return n, nil
}
