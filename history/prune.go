package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sdbuild/sdbuild/api"
	bolt "go.etcd.io/bbolt"
)

// Retention says which finished builds Prune removes. A build that is
// queued or running is never removed, whatever the policy says: its record
// is in the active set and the daemon still writes it.
type Retention struct {
	// FinishedBefore, when not zero, removes builds that finished before
	// it.
	FinishedBefore time.Time
	// Keep, when above 0, keeps the newest Keep finished builds whatever
	// their age; with FinishedBefore zero it removes all older ones.
	Keep int
}

// selects reports whether a finished build, the n-th newest finished one
// (from 1), is removed. A Retention with nothing set removes nothing.
func (r Retention) selects(finished time.Time, n int) bool {
	if r.FinishedBefore.IsZero() && r.Keep <= 0 {
		return false
	}
	if r.Keep > 0 && n <= r.Keep {
		return false
	}
	return r.FinishedBefore.IsZero() || finished.Before(r.FinishedBefore)
}

// pruneChunk is how many records one of Prune's transactions deletes: a
// few thousand deletions commit in milliseconds, and Puts of running
// builds wait for no more than one chunk.
const pruneChunk = 1000

// Pruned is a build Prune removed, for removing what else it left (its
// log).
type Pruned struct {
	ID       string
	Finished time.Time
}

// Prune removes the finished builds r selects, with their index entries,
// and returns them. Each chunk of removals commits on its own: an error
// leaves the chunks before it removed (and returned).
func (s *Store) Prune(r Retention) ([]Pruned, error) {
	if r.FinishedBefore.IsZero() && r.Keep <= 0 {
		return nil, nil // keep everything: no need to read the history
	}
	var victims [][]byte
	var out []Pruned
	err := s.view(func(tx *bolt.Tx) error {
		active := tx.Bucket(bucketActive)
		c := tx.Bucket(bucketBuilds).Cursor()
		n := 0
		for seq, v := c.Last(); seq != nil; seq, v = c.Prev() {
			if active.Get(seq) != nil {
				continue
			}
			e, err := decodeEnd(seq, v)
			if err != nil {
				return err
			}
			if !e.Status.Finished() {
				continue // not in the active set, yet not final: never guess
			}
			n++
			if r.selects(e.Finished, n) {
				victims = append(victims, bytes.Clone(seq))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prune history: %w", err)
	}
	for len(victims) > 0 {
		chunk := victims[:min(pruneChunk, len(victims))]
		victims = victims[len(chunk):]
		var done []Pruned
		err := s.update(func(tx *bolt.Tx) error {
			done = done[:0] // bbolt may not retry, but a retried func starts clean
			for _, seq := range chunk {
				p, err := deleteTx(tx, seq)
				if err != nil {
					return err
				}
				if p != nil {
					done = append(done, *p)
				}
			}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("prune history: %w", err)
		}
		out = append(out, done...)
	}
	return out, nil
}

// deleteTx removes the record under seq and its index entries, unless it
// became active since it was chosen (nil, nil then, and when it is gone).
func deleteTx(tx *bolt.Tx, seq []byte) (*Pruned, error) {
	if tx.Bucket(bucketActive).Get(seq) != nil {
		return nil, nil
	}
	builds := tx.Bucket(bucketBuilds)
	v := builds.Get(seq)
	if v == nil {
		return nil, nil
	}
	e, err := decodeEnd(seq, v)
	if err != nil {
		return nil, err
	}
	if !e.Status.Finished() {
		return nil, nil
	}
	if err := tx.Bucket(bucketIDs).Delete([]byte(e.ID)); err != nil {
		return nil, err
	}
	if err := tx.Bucket(bucketUIDs).Delete(uidKey(e.UID, seq)); err != nil {
		return nil, err
	}
	if err := builds.Delete(seq); err != nil {
		return nil, err
	}
	return &Pruned{ID: e.ID, Finished: e.Finished}, nil
}

// end is the part of a record Prune decides on.
type end struct {
	ID       string     `json:"id"`
	UID      uint32     `json:"uid"`
	Status   api.Status `json:"status"`
	Finished time.Time  `json:"finished"`
}

func decodeEnd(seq, v []byte) (end, error) {
	var e end
	if err := json.Unmarshal(v, &e); err != nil {
		return e, fmt.Errorf("decode record %x: %w (%w)", seq, ErrCorrupt, err)
	}
	return e, nil
}
