package history

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/sdbuild/sdbuild/api"
	bolt "go.etcd.io/bbolt"
)

func TestPutGet(t *testing.T) {
	s := mustOpen(t, testPath(t))
	a := testBuild(1, 1000, api.StatusQueued, "alpha")
	mustPut(t, s, a)
	mustPut(t, s, testBuild(2, 1001, api.StatusRunning, "beta"))

	// An update replaces the record in place: it stays older than build 2.
	a2 := *a
	a2.Status, a2.ExitCode, a2.Output = api.StatusFailed, 2, "/out/alpha"
	mustPut(t, s, &a2)

	got, err := s.Get(a.ID)
	if err != nil {
		t.Fatalf("Get(%s): %v", a.ID, err)
	}
	// JSON drops the monotonic clock reading; compare wall times only.
	if !got.Created.Equal(a2.Created) {
		t.Errorf("Get(%s).Created = %v, want %v", a.ID, got.Created, a2.Created)
	}
	got.Created = a2.Created
	if !reflect.DeepEqual(got, &a2) {
		t.Errorf("Get(%s) = %+v, want %+v", a.ID, got, &a2)
	}
	all, err := s.List(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{testBuild(2, 0, "", "").ID, a.ID}; !reflect.DeepEqual(ids(all), want) {
		t.Errorf("List after update = %v, want %v (an update keeps its place)", ids(all), want)
	}
	checkConsistent(t, s)
}

func TestGetNotFound(t *testing.T) {
	s := mustOpen(t, testPath(t))
	mustPut(t, s, testBuild(1, 1000, api.StatusQueued, ""))
	_, err := s.Get("deadbeef0000")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "deadbeef0000") {
		t.Fatalf("Get(absent) = %v, want ErrNotFound naming the id", err)
	}
}

func TestPutInvalid(t *testing.T) {
	s := mustOpen(t, testPath(t))
	for _, tc := range []struct {
		name string
		b    *api.Build
	}{
		{"nil", nil},
		{"no id", &api.Build{Name: "x", Outcome: api.Outcome{Status: api.StatusQueued}}},
	} {
		if err := s.Put(tc.b); !errors.Is(err, ErrNoID) {
			t.Errorf("Put(%s) = %v, want ErrNoID", tc.name, err)
		}
		if err := s.PutAll([]*api.Build{testBuild(1, 0, api.StatusQueued, ""), tc.b}); !errors.Is(err, ErrNoID) {
			t.Errorf("PutAll(valid, %s) = %v, want ErrNoID", tc.name, err)
		}
	}
	// PutAll writes all or nothing.
	if all, err := s.List(Filter{Limit: -1}); err != nil || len(all) != 0 {
		t.Errorf("List after rejected writes = %v, %v; want nothing", ids(all), err)
	}
}

// A build whose uid changes moves to the new user's index.
func TestPutUIDChange(t *testing.T) {
	s := mustOpen(t, testPath(t))
	b := testBuild(1, 1000, api.StatusQueued, "")
	mustPut(t, s, b)
	b.UID = 1001
	mustPut(t, s, b)
	for _, tc := range []struct {
		uid  uint32
		want int
	}{{1000, 0}, {1001, 1}} {
		got, err := s.List(Filter{UID: &tc.uid})
		if err != nil || len(got) != tc.want {
			t.Errorf("List(uid %d) = %v, %v; want %d builds", tc.uid, ids(got), err, tc.want)
		}
	}
	checkConsistent(t, s)
}

func TestActive(t *testing.T) {
	s := mustOpen(t, testPath(t))
	steps := []struct {
		put  *api.Build
		want []int // Active, by testBuild index, oldest first
	}{
		{testBuild(1, 1000, api.StatusQueued, ""), []int{1}},
		{testBuild(2, 1000, api.StatusQueued, ""), []int{1, 2}},
		{testBuild(3, 1000, api.StatusSucceeded, ""), []int{1, 2}},
		{testBuild(1, 1000, api.StatusRunning, ""), []int{1, 2}},
		{testBuild(2, 1000, api.StatusCancelled, ""), []int{1}},
		{testBuild(4, 1000, api.StatusRunning, ""), []int{1, 4}},
		{testBuild(1, 1000, api.StatusInterrupted, ""), []int{4}},
		{testBuild(4, 1000, api.StatusTimedOut, ""), nil},
		// Not a transition the daemon makes, but the set follows the status.
		{testBuild(3, 1000, api.StatusQueued, ""), []int{3}},
	}
	for i, st := range steps {
		mustPut(t, s, st.put)
		got, err := s.Active()
		if err != nil {
			t.Fatalf("step %d: Active: %v", i, err)
		}
		want := []string{}
		for _, n := range st.want {
			want = append(want, testBuild(n, 0, "", "").ID)
		}
		if g := ids(got); !reflect.DeepEqual(g, want) {
			t.Errorf("step %d (put %s %s): Active = %v, want %v", i, st.put.ID, st.put.Status, g, want)
		}
	}
	checkConsistent(t, s)
}

// Records are JSON, read leniently: a field a newer sdbuildd added is
// ignored, not an error.
func TestForwardCompatible(t *testing.T) {
	s := mustOpen(t, testPath(t))
	b := testBuild(1, 1000, api.StatusSucceeded, "future")
	mustPut(t, s, b)
	raw := `{"id":"` + b.ID + `","name":"future","uid":1000,"status":"succeeded","slot":3,"sbom":{"format":"spdx"},"retries":2}`
	err := s.db.Update(func(tx *bolt.Tx) error {
		seq := bytes.Clone(tx.Bucket(bucketIDs).Get([]byte(b.ID)))
		return tx.Bucket(bucketBuilds).Put(seq, []byte(raw))
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(b.ID)
	if err != nil || got.Slot != 3 || got.Name != "future" {
		t.Fatalf("Get(record with unknown fields) = %+v, %v; want slot 3, name future", got, err)
	}
	uid := uint32(1000)
	if l, err := s.List(Filter{UID: &uid, Name: "fut"}); err != nil || len(l) != 1 {
		t.Fatalf("List(record with unknown fields) = %v, %v; want it", ids(l), err)
	}
}

func TestCorruptIndex(t *testing.T) {
	s := mustOpen(t, testPath(t))
	mustPut(t, s, testBuild(1, 1000, api.StatusQueued, ""))
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketIDs).Put([]byte("dangling"), seqKey(99)); err != nil {
			return err
		}
		return tx.Bucket(bucketActive).Put(seqKey(99), []byte{})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("dangling"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Get(dangling index entry) = %v, want ErrCorrupt", err)
	}
	if _, err := s.Active(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Active(with dangling entry) = %v, want ErrCorrupt", err)
	}
	if err := s.Put(&api.Build{ID: "dangling"}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Put(over dangling index entry) = %v, want ErrCorrupt", err)
	}
}

func TestReopen(t *testing.T) {
	path := testPath(t)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, testBuild(1, 1000, api.StatusRunning, ""))
	mustPut(t, s, testBuild(2, 1000, api.StatusSucceeded, ""))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = mustOpen(t, path)
	// The sequence carries on after reopening: a new build is the newest.
	mustPut(t, s, testBuild(3, 1000, api.StatusQueued, ""))
	all, err := s.List(Filter{})
	want := []string{testBuild(3, 0, "", "").ID, testBuild(2, 0, "", "").ID, testBuild(1, 0, "", "").ID}
	if err != nil || !reflect.DeepEqual(ids(all), want) {
		t.Errorf("List after reopen = %v, %v; want %v", ids(all), err, want)
	}
	checkConsistent(t, s)
}

// Another Open of a held file fails with ErrInUse, naming the file. flock
// locks belong to the open file description, so a second Open in the same
// process conflicts just as a second daemon does (TestSurvivesKill shows the
// latter).
func TestOpenInUse(t *testing.T) {
	path := testPath(t)
	first := mustOpen(t, path)
	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatal("second Open of a held history succeeded")
	}
	checkInUse(t, err, path)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, path) // released by Close
}

func checkInUse(t *testing.T, err error, path string) {
	t.Helper()
	want := "history " + path + " is in use by another sdbuildd (pid unknown); stop it first"
	if !errors.Is(err, ErrInUse) || err.Error() != want {
		t.Errorf("Open(held) = %q, want ErrInUse %q", err, want)
	}
}

// Many goroutines Put at once, as parallel builds do; every write must land
// exactly once.
func TestConcurrentPut(t *testing.T) {
	s := mustOpen(t, testPath(t))
	const workers, each = 8, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				n := w*each + i
				b := testBuild(n, uint32(1000+w), api.StatusQueued, "")
				if err := s.Put(b); err != nil {
					t.Errorf("Put(%s): %v", b.ID, err)
					return
				}
				if i%2 == 0 {
					b.Status = api.StatusSucceeded
					if err := s.Put(b); err != nil {
						t.Errorf("Put(%s): %v", b.ID, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	all, err := s.List(Filter{Limit: -1})
	if err != nil || len(all) != workers*each {
		t.Fatalf("List = %d builds, %v; want %d", len(all), err, workers*each)
	}
	active, err := s.Active()
	if err != nil || len(active) != workers*each/2 {
		t.Fatalf("Active = %d builds, %v; want %d", len(active), err, workers*each/2)
	}
	checkConsistent(t, s)
}
