package history

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
	bolt "go.etcd.io/bbolt"
)

// TestPutConcurrent: Puts made at once all land, each build once, with
// its last record.
func TestPutConcurrent(t *testing.T) {
	s := mustOpen(t, testPath(t))
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, st := range []api.Status{api.StatusQueued, api.StatusRunning, api.StatusSucceeded} {
				if err := s.Put(testBuild(i, 1000, st, "c")); err != nil {
					t.Errorf("Put(%d, %s): %v", i, st, err)
				}
			}
		}()
	}
	wg.Wait()
	for i := range n {
		b, err := s.Get(testBuild(i, 1000, "", "").ID)
		if err != nil {
			t.Fatalf("Get(%d): %v", i, err)
		}
		if b.Status != api.StatusSucceeded {
			t.Errorf("Get(%d).Status = %s, want %s", i, b.Status, api.StatusSucceeded)
		}
	}
	active, err := s.Active()
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 0 {
		t.Errorf("Active() = %d builds, want 0", len(active))
	}
}

// TestCommitGroupOneBad: a record that cannot be written fails its own Put
// alone; the others in its group are stored.
func TestCommitGroupOneBad(t *testing.T) {
	s := mustOpen(t, testPath(t))
	bad := testBuild(1, 1000, api.StatusQueued, "bad")
	mustPut(t, s, bad)
	// An index entry whose record is gone makes putTx fail for that id.
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBuilds).Delete(tx.Bucket(bucketIDs).Get([]byte(bad.ID)))
	})
	if err != nil {
		t.Fatal(err)
	}
	var group []putReq
	for _, b := range []*api.Build{testBuild(2, 1000, api.StatusQueued, "a"), bad, testBuild(3, 1000, api.StatusQueued, "b")} {
		r, err := encode(b)
		if err != nil {
			t.Fatal(err)
		}
		group = append(group, putReq{r: r, done: make(chan error, 1)})
	}
	s.commit(group)
	for i, p := range group {
		err := <-p.done
		if wantBad := i == 1; wantBad != errors.Is(err, ErrCorrupt) || (!wantBad && err != nil) {
			t.Errorf("record %d: commit error %v, want ErrCorrupt only for the bad one", i, err)
		}
	}
	for _, i := range []int{2, 3} {
		if _, err := s.Get(testBuild(i, 1000, "", "").ID); err != nil {
			t.Errorf("Get(%d): %v", i, err)
		}
	}
}

// TestPutAfterClose: Put on a closed store fails with ErrClosed rather
// than waiting for a committer that has gone.
func TestPutAfterClose(t *testing.T) {
	s, err := Open(testPath(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(testBuild(1, 1000, api.StatusQueued, "x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close = %v, want ErrClosed", err)
	}
}

// TestPutOrdered: records handed over one after another are written in
// that order, whoever waits first.
func TestPutOrdered(t *testing.T) {
	s := mustOpen(t, testPath(t))
	var waits []func() error
	for _, st := range []api.Status{api.StatusQueued, api.StatusRunning, api.StatusSucceeded} {
		waits = append(waits, s.PutOrdered(testBuild(1, 1000, st, "o")))
	}
	for i := len(waits) - 1; i >= 0; i-- {
		if err := waits[i](); err != nil {
			t.Fatalf("wait %d: %v", i, err)
		}
	}
	b, err := s.Get(testBuild(1, 1000, "", "").ID)
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != api.StatusSucceeded {
		t.Errorf("Get().Status = %s, want %s", b.Status, api.StatusSucceeded)
	}
}

// TestPutOrderedDoesNotWaitForCommit: handing a record over returns while
// another commit is in flight, so its fsync stays off the caller's path.
func TestPutOrderedDoesNotWaitForCommit(t *testing.T) {
	s := mustOpen(t, testPath(t))
	// A write transaction held here stalls the committer's first commit.
	tx, err := s.db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	first := s.PutOrdered(testBuild(1, 1000, api.StatusQueued, "f"))
	handed := make(chan func() error, 1)
	go func() { handed <- s.PutOrdered(testBuild(2, 1000, api.StatusQueued, "s")) }()
	var second func() error
	select {
	case second = <-handed:
	case <-time.After(10 * time.Second):
		tx.Rollback()
		t.Fatal("PutOrdered waited for the commit in flight")
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	for i, wait := range []func() error{first, second} {
		if err := wait(); err != nil {
			t.Errorf("wait %d: %v", i, err)
		}
	}
}
