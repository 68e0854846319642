package buildlog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// Remove deletes the log of build id in dir; a log already gone is not an
// error. The journal's copy is journald's to rotate.
func Remove(dir, id string) error {
	if err := checkID(id); err != nil {
		return fmt.Errorf("remove log: %w", err)
	}
	if err := os.Remove(logPath(dir, id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove log %s: %w", id, err)
	}
	return nil
}

// Prune deletes the logs in dir last written before cutoff, except those
// of the builds keep names (queued and running ones, whose logs are still
// written or about to be), and returns how many it deleted and their
// bytes. A log that cannot be deleted is reported with the others' count.
func Prune(dir string, cutoff time.Time, keep func(id string) bool) (n int, bytes int64, err error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("prune logs in %s: %w", dir, err)
	}
	var errs []error
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok || !e.Type().IsRegular() || checkID(id) != nil || keep(id) {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(cutoff) {
			continue // gone meanwhile, or young
		}
		if err := os.Remove(logPath(dir, id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		n++
		bytes += fi.Size()
	}
	if len(errs) > 0 {
		return n, bytes, fmt.Errorf("prune logs in %s: %w", dir, errors.Join(errs...))
	}
	return n, bytes, nil
}
