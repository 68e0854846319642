package history

import (
	bolt "go.etcd.io/bbolt"
)

// putReq is one Put waiting for its record to be committed.
type putReq struct {
	r    record
	done chan error // buffered: the committer never waits for the caller
}

// maxPending is how many records Put can hand over while a commit runs
// without waiting for it: an unbuffered hand-over would make PutOrdered
// wait for the commit in flight, putting its fsync back on the caller's
// path.
const maxPending = 256

// maxGroup bounds the records one commit writes, so that the first Put of
// a burst does not wait for the writes of hundreds behind it.
const maxGroup = 64

// commitLoop writes the records Put hands it until Close closes s.puts.
// Each commit takes every record waiting when it starts, so Puts that
// arrive while one commit fsyncs share the next: n builds at once cost a
// commit per round, not n. A lone Put waits for no one (db.Batch's window
// would make it wait for companions that may never come). Every request
// taken is answered, whatever the commit's result.
func (s *Store) commitLoop() {
	defer close(s.committed)
	for first := range s.puts {
		group := []putReq{first}
	more:
		for len(group) < maxGroup {
			select {
			case p, ok := <-s.puts:
				if !ok {
					break more
				}
				group = append(group, p)
			default:
				break more
			}
		}
		s.commit(group)
	}
}

// commit writes group in one transaction, in order, so a build's later
// record replaces its earlier one even within the group. If that fails,
// each record is written alone, so that one bad record fails only its own
// Put.
func (s *Store) commit(group []putReq) {
	s.commits.Add(1)
	err := s.update(func(tx *bolt.Tx) error {
		for _, p := range group {
			if err := putTx(tx, p.r); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(group) == 1 {
		for _, p := range group {
			p.done <- err
		}
		return
	}
	for _, p := range group {
		s.commits.Add(1)
		p.done <- s.update(func(tx *bolt.Tx) error { return putTx(tx, p.r) })
	}
}
