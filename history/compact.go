package history

import (
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Usage is how much of the history file holds records.
type Usage struct {
	FileBytes int64 // the file's size
	FreeBytes int64 // pages bbolt keeps free for reuse
}

// Sparse reports whether at least half the file, and at least minFree
// bytes, is free pages: then Compact gives the space back. bbolt reuses
// free pages but never shrinks its file, so a history that Prune cut down
// keeps its largest size until compacted.
func (u Usage) Sparse(minFree int64) bool {
	return u.FreeBytes >= minFree && 2*u.FreeBytes >= u.FileBytes
}

// Usage measures the file.
func (s *Store) Usage() (Usage, error) {
	var u Usage
	err := s.view(func(tx *bolt.Tx) error {
		st := tx.DB().Stats()
		u.FileBytes = tx.Size()
		u.FreeBytes = int64(st.FreePageN+st.PendingPageN) * int64(tx.DB().Info().PageSize)
		return nil
	})
	if err != nil {
		return Usage{}, fmt.Errorf("measure history %s: %w", s.path, err)
	}
	return u, nil
}

// compactTxBytes bounds each transaction of the copy, so that a large
// history is not copied in one transaction held in memory.
const compactTxBytes = 4 << 20

// Compact rewrites the history into a fresh file holding only live pages
// and puts it in the old one's place. Every other call waits meanwhile.
// The copy is written and synced beside the file before the rename, so a
// crash at any point leaves either the old file or the new one whole; a
// leftover copy is removed by the next Compact.
//
// Between closing the old file and opening the new one no flock is held;
// a second sdbuildd is kept away by socket activation, not by the lock,
// in that moment.
func (s *Store) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tmp := s.path + ".compact"
	os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return fmt.Errorf("compact history %s: %w", s.path, err)
	}
	if err := bolt.Compact(dst, s.db, compactTxBytes); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fmt.Errorf("compact history %s: %w", s.path, err)
	}
	if err := dst.Close(); err != nil { // bbolt synced every commit
		os.Remove(tmp)
		return fmt.Errorf("compact history %s: %w", s.path, err)
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("compact history %s: close: %w", s.path, err)
	}
	renamed := os.Rename(tmp, s.path)
	if renamed == nil {
		renamed = syncDir(filepath.Dir(s.path))
	}
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		// Nothing else can be done with a history that does not open:
		// the daemon's next Put reports it.
		return fmt.Errorf("compact history %s: reopen: %w", s.path, err)
	}
	s.db = db
	if renamed != nil {
		os.Remove(tmp)
		return fmt.Errorf("compact history %s: %w (the old file is kept)", s.path, renamed)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
