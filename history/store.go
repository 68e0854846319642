package history

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sdbuild/sdbuild/api"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

var (
	bucketBuilds = []byte("builds")
	bucketIDs    = []byte("ids")
	bucketUIDs   = []byte("uids")
	bucketActive = []byte("active")
)

// lockTimeout is how long Open waits for another holder of the file to let
// go. A daemon being restarted releases it as it exits; longer than that
// means a second daemon. Tests shorten it.
var lockTimeout = time.Second

// Store is the history database. Its methods are safe for concurrent use.
type Store struct {
	path string
	// mu is held for reading by every transaction and for writing while
	// Compact replaces the file, and db with it.
	mu sync.RWMutex
	db *bolt.DB // protected by mu

	puts      chan putReq   // Put to commitLoop; closed by Close
	committed chan struct{} // closed when commitLoop has returned
	commits   atomic.Int64  // transactions commitLoop ran, for BenchmarkPut

	// putMu is held for reading while a Put hands its record over, and
	// for writing while Close closes puts. It is apart from mu, which
	// the committer takes for every commit.
	putMu  sync.RWMutex
	closed bool // protected by putMu: puts is closed
}

// view runs fn in a read transaction.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.View(fn)
}

// update runs fn in a read-write transaction.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.Update(fn)
}

// Open opens or creates the history file at path, conventionally
// <state-dir>/history.db. It fails with an error wrapping ErrInUse if another
// process has the file open.
func Open(path string) (*Store, error) {
	// 0600: records hold users' command lines and errors.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &inUseError{path: path, cause: err}
	}
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketBuilds, bucketIDs, bucketUIDs, bucketActive} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialise history %s: %w", path, err)
	}
	s := &Store{path: path, db: db, puts: make(chan putReq, maxPending), committed: make(chan struct{})}
	go s.commitLoop()
	return s, nil
}

// inUseError is Open's error when the file lock is held. Its message is
// meant for the person who started the second daemon.
type inUseError struct {
	path  string
	cause error
}

func (e *inUseError) Error() string {
	// flock does not say who holds the lock.
	return fmt.Sprintf("history %s is in use by another sdbuildd (pid unknown); stop it first", e.path)
}

func (e *inUseError) Unwrap() []error { return []error{ErrInUse, e.cause} }

// Close waits for running transactions and closes the file, releasing the
// lock. Puts after Close fail with ErrClosed.
func (s *Store) Close() error {
	s.putMu.Lock()
	if !s.closed {
		s.closed = true
		close(s.puts)
	}
	s.putMu.Unlock()
	<-s.committed // the committer ends once it has answered every Put sent
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close history %s: %w", s.path, err)
	}
	return nil
}

// Path returns the file the store was opened on.
func (s *Store) Path() string { return s.path }

// Get returns the build with the given id, or an error wrapping ErrNotFound.
func (s *Store) Get(id string) (*api.Build, error) {
	var b *api.Build
	err := s.view(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketIDs).Get([]byte(id))
		if seq == nil {
			return ErrNotFound
		}
		var err error
		b, err = load(tx.Bucket(bucketBuilds), seq)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get build %s: %w", id, err)
	}
	return b, nil
}

// load decodes the record stored under seq.
func load(builds *bolt.Bucket, seq []byte) (*api.Build, error) {
	v := builds.Get(seq)
	if v == nil {
		return nil, fmt.Errorf("record %x missing: %w", seq, ErrCorrupt)
	}
	return decodeBuild(seq, v)
}
