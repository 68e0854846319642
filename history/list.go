package history

import (
	"bytes"
	"fmt"
	"math"

	"github.com/sdbuild/sdbuild/api"
	bolt "go.etcd.io/bbolt"
)

// List returns the builds f selects, newest first.
//
// A UID filter walks that user's index entries and a filter on queued or
// running builds only walks the active set, so both read about as many
// records as they return. A Name filter, or a status filter naming a final
// status, reads records newest first until Limit of them match: with a
// filter that matches little, that is most of the history (for a Name, a
// byte search of each record weeds out most of it before any decoding).
func (s *Store) List(f Filter) ([]*api.Build, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0:
		limit = math.MaxInt
	}
	var out []*api.Build
	err := s.view(func(tx *bolt.Tx) error {
		before := seqKey(math.MaxUint64) // above every sequence NextSequence gives
		if f.Before != "" {
			seq := tx.Bucket(bucketIDs).Get([]byte(f.Before))
			if seq == nil {
				return fmt.Errorf("build %s: %w", f.Before, ErrNotFound)
			}
			before = seq
		}
		m := newMatcher(f)
		w := chooseWalk(tx, f)
		for seq, v := w.seek(before); seq != nil && len(out) < limit; seq, v = w.prev() {
			if v == nil {
				return fmt.Errorf("record %x missing: %w", seq, ErrCorrupt)
			}
			b, err := m.match(seq, v, w.records != nil)
			if err != nil {
				return err
			}
			if b != nil {
				out = append(out, b)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list builds: %w", err)
	}
	return out, nil
}

// Active returns every build whose status is not final, oldest first. The
// daemon calls it at start: whatever it returns was queued or running when
// the previous daemon stopped.
func (s *Store) Active() ([]*api.Build, error) {
	var out []*api.Build
	err := s.view(func(tx *bolt.Tx) error {
		builds := tx.Bucket(bucketBuilds)
		return tx.Bucket(bucketActive).ForEach(func(seq, _ []byte) error {
			b, err := load(builds, seq)
			if err != nil {
				return err
			}
			out = append(out, b)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list active builds: %w", err)
	}
	return out, nil
}

// walk steps backwards over keys of the form prefix ‖ seq in one bucket,
// yielding each seq and its record.
type walk struct {
	c      *bolt.Cursor
	prefix []byte
	// records is where the record for a seq is looked up; nil when the
	// walked bucket is builds itself and the value is the record.
	records *bolt.Bucket
}

// chooseWalk picks the smallest key range that holds every build f can
// select; List still applies the whole filter to each record.
func chooseWalk(tx *bolt.Tx, f Filter) *walk {
	builds := tx.Bucket(bucketBuilds)
	switch {
	case onlyActive(f.Statuses):
		return &walk{c: tx.Bucket(bucketActive).Cursor(), records: builds}
	case f.UID != nil:
		return &walk{c: tx.Bucket(bucketUIDs).Cursor(), prefix: uidKey(*f.UID, nil), records: builds}
	}
	return &walk{c: builds.Cursor()}
}

// seek moves to the last key below prefix ‖ before.
func (w *walk) seek(before []byte) (seq, v []byte) {
	k, _ := w.c.Seek(append(bytes.Clone(w.prefix), before...))
	if k == nil {
		// Every key is below the bound.
		return w.at(w.c.Last())
	}
	return w.at(w.c.Prev())
}

func (w *walk) prev() (seq, v []byte) { return w.at(w.c.Prev()) }

// at returns the seq and record for key k, or nil at the end of the range.
func (w *walk) at(k, v []byte) (seq, rec []byte) {
	if k == nil || len(k) != len(w.prefix)+8 || !bytes.HasPrefix(k, w.prefix) {
		return nil, nil
	}
	seq = k[len(w.prefix):]
	if w.records != nil {
		v = w.records.Get(seq)
	}
	return seq, v
}
