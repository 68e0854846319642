package history

import (
	"bytes"
	"fmt"

	"github.com/sdbuild/sdbuild/api"
	bolt "go.etcd.io/bbolt"
)

// Put inserts b, or replaces the stored build with the same ID. A build keeps
// the position in the history that its first Put gave it. Builds whose status
// is not final are added to the active set, the others removed from it. When
// Put returns nil the record is on disk. Puts made at once share a commit
// (see commitLoop).
func (s *Store) Put(b *api.Build) error {
	return s.PutOrdered(b)()
}

// PutOrdered is Put in two steps: it hands b to the committer and returns,
// and wait returns Put's result once the record is on disk. b is written
// after every record handed over before PutOrdered returned and before
// every one handed over after, so a caller can start work that will write
// the same build again while this record's fsync runs.
func (s *Store) PutOrdered(b *api.Build) (wait func() error) {
	r, err := encode(b)
	if err != nil {
		if b == nil {
			err = fmt.Errorf("put build: %w", err)
		} else {
			err = fmt.Errorf("put build %q: %w", b.ID, err)
		}
		return func() error { return err }
	}
	done := make(chan error, 1)
	// The read lock keeps Close from closing s.puts during the send; the
	// committer answers every request it was sent, closed or not.
	s.putMu.RLock()
	if s.closed {
		s.putMu.RUnlock()
		err := fmt.Errorf("put build %s: %w", r.id, ErrClosed)
		return func() error { return err }
	}
	s.puts <- putReq{r: r, done: done}
	s.putMu.RUnlock()
	return func() error {
		if err := <-done; err != nil {
			return fmt.Errorf("put build %s: %w", r.id, err)
		}
		return nil
	}
}

// PutAll stores every build in bs as Put does, in one transaction: all or
// none are written, at the cost of one commit.
func (s *Store) PutAll(bs []*api.Build) error {
	rs := make([]record, len(bs))
	for i, b := range bs {
		r, err := encode(b)
		if err != nil {
			return fmt.Errorf("put %d builds: build %d: %w", len(bs), i, err)
		}
		rs[i] = r
	}
	err := s.update(func(tx *bolt.Tx) error {
		for _, r := range rs {
			if err := putTx(tx, r); err != nil {
				return fmt.Errorf("build %s: %w", r.id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %d builds: %w", len(bs), err)
	}
	return nil
}

// putTx writes r and its index entries. It must leave nothing changed
// outside tx: Batch may call it again in a fresh transaction.
func putTx(tx *bolt.Tx, r record) error {
	builds := tx.Bucket(bucketBuilds)
	// New records always go at the end (their seq is the largest), and a
	// record is only rewritten while its build runs, so full pages stay
	// full: splitting them at bbolt's default half leaves every page of the
	// history half empty.
	builds.FillPercent = 0.9
	ids := tx.Bucket(bucketIDs)
	uids := tx.Bucket(bucketUIDs)

	var seq []byte
	newUID := true
	if old := ids.Get(r.id); old != nil {
		// old points into bbolt's mmap; seq is given to Put as a key below,
		// and keys must stay valid until commit, which may remap the file.
		seq = bytes.Clone(old)
		v := builds.Get(seq)
		if v == nil {
			return fmt.Errorf("record %x missing: %w", seq, ErrCorrupt)
		}
		prev, err := decodeSummary(seq, v)
		if err != nil {
			return err
		}
		if prev.UID != r.uid {
			if err := uids.Delete(uidKey(prev.UID, seq)); err != nil {
				return err
			}
		} else {
			newUID = false
		}
	} else {
		n, err := builds.NextSequence()
		if err != nil {
			return err
		}
		seq = seqKey(n)
		if err := ids.Put(r.id, seq); err != nil {
			return err
		}
	}

	if err := builds.Put(seq, r.data); err != nil {
		return err
	}
	if newUID {
		if err := uids.Put(uidKey(r.uid, seq), []byte{}); err != nil {
			return err
		}
	}
	active := tx.Bucket(bucketActive)
	if r.status.Finished() {
		return active.Delete(seq)
	}
	return active.Put(seq, []byte{})
}
