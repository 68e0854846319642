package history

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
)

func TestRetentionSelects(t *testing.T) {
	cut := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	old, young := cut.Add(-time.Hour), cut.Add(time.Hour)
	for _, tt := range []struct {
		r        Retention
		finished time.Time
		n        int
		want     bool
	}{
		{Retention{}, old, 1000, false}, // nothing set: nothing removed
		{Retention{FinishedBefore: cut}, old, 1, true},
		{Retention{FinishedBefore: cut}, young, 1000, false},
		{Retention{Keep: 10}, young, 10, false},
		{Retention{Keep: 10}, young, 11, true},
		{Retention{FinishedBefore: cut, Keep: 10}, old, 5, false}, // among the newest 10
		{Retention{FinishedBefore: cut, Keep: 10}, old, 11, true},
		{Retention{FinishedBefore: cut, Keep: 10}, young, 11, false},
	} {
		if got := tt.r.selects(tt.finished, tt.n); got != tt.want {
			t.Errorf("%+v.selects(%v, %d) = %v, want %v", tt.r, tt.finished, tt.n, got, tt.want)
		}
	}
}

// fillAged stores n builds, build i finished i minutes after base; every
// 100th is still running and every 100th+1 queued.
func fillAged(t *testing.T, s *Store, n int, base time.Time) {
	t.Helper()
	bs := make([]*api.Build, 0, n)
	for i := range n {
		st := api.StatusSucceeded
		switch i % 100 {
		case 0:
			st = api.StatusRunning
		case 1:
			st = api.StatusQueued
		case 2:
			st = api.StatusFailed
		}
		b := testBuild(i, uint32(1000+i%7), st, fmt.Sprintf("pkg-%d", i))
		// A realistic record: a long command line, as a nix-build has.
		b.Args = append(b.Args, strings.Repeat("--option x y ", 20))
		b.Created = base.Add(time.Duration(i) * time.Minute)
		if st.Finished() {
			b.Finished = b.Created.Add(30 * time.Second)
		}
		bs = append(bs, b)
	}
	for i := 0; i < n; i += 1000 {
		if err := s.PutAll(bs[i:min(i+1000, n)]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPruneThousands(t *testing.T) {
	const n = 5000
	s := mustOpen(t, testPath(t))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fillAged(t, s, n, base)

	// Everything that finished in the first 4000 minutes goes, except
	// the active builds among them (80 of them).
	cut := base.Add(4000 * time.Minute)
	pruned, err := s.Prune(Retention{FinishedBefore: cut})
	if err != nil {
		t.Fatal(err)
	}
	if want := 4000 - 80; len(pruned) != want {
		t.Errorf("Prune(finished before minute 4000) removed %d builds, want %d", len(pruned), want)
	}
	for _, p := range pruned {
		if !p.Finished.Before(cut) {
			t.Errorf("pruned %s, finished %v, after the cut %v", p.ID, p.Finished, cut)
		}
	}
	active, err := s.Active()
	if err != nil || len(active) != 2*n/100 {
		t.Fatalf("Active after Prune = %d builds, %v; want all %d kept", len(active), err, 2*n/100)
	}
	all, err := s.List(Filter{Limit: -1})
	if err != nil || len(all) != n-len(pruned) {
		t.Fatalf("List after Prune = %d builds, %v; want %d", len(all), err, n-len(pruned))
	}
	checkConsistent(t, s)

	// --keep 100: the newest 100 finished builds stay, and the active ones.
	pruned, err = s.Prune(Retention{Keep: 100})
	if err != nil {
		t.Fatal(err)
	}
	all, _ = s.List(Filter{Limit: -1})
	finished := 0
	for _, b := range all {
		if b.Status.Finished() {
			finished++
		}
	}
	if finished != 100 || len(all) != 100+2*n/100 {
		t.Errorf("after Prune(keep 100): %d builds, %d finished; want 100 finished and %d active", len(all), finished, 2*n/100)
	}
	if _, err := s.Get(pruned[0].ID); err == nil {
		t.Errorf("Get(%s) after Prune found it", pruned[0].ID)
	}
	checkConsistent(t, s)
}

// A history cut down to a tenth is sparse, and Compact gives the space
// back and keeps every record.
func TestCompact(t *testing.T) {
	s := mustOpen(t, testPath(t))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fillAged(t, s, 5000, base)
	before, err := s.Usage()
	if err != nil {
		t.Fatal(err)
	}
	if before.Sparse(0) {
		t.Fatalf("a full history reads as sparse: %+v", before)
	}
	if _, err := s.Prune(Retention{Keep: 400}); err != nil {
		t.Fatal(err)
	}
	// A pruning transaction's pages are pending until the next commit
	// frees them; one more Put makes them free.
	mustPut(t, s, testBuild(99999, 1000, api.StatusSucceeded, "after"))
	cut, err := s.Usage()
	if err != nil {
		t.Fatal(err)
	}
	if !cut.Sparse(1 << 20) {
		t.Fatalf("after pruning 90%%: %+v, want sparse", cut)
	}
	want, _ := s.List(Filter{Limit: -1})
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	after, err := s.Usage()
	if err != nil {
		t.Fatal(err)
	}
	if after.FileBytes*3 > cut.FileBytes {
		t.Errorf("Compact: file %d bytes, was %d; want a third or less", after.FileBytes, cut.FileBytes)
	}
	t.Logf("file: %d bytes full, %d after pruning (%d free), %d compacted", before.FileBytes, cut.FileBytes, cut.FreeBytes, after.FileBytes)
	got, err := s.List(Filter{Limit: -1})
	if err != nil || len(got) != len(want) {
		t.Fatalf("List after Compact = %d builds, %v; want %d", len(got), err, len(want))
	}
	checkConsistent(t, s)
	// The store still writes, and the file is still locked against a
	// second opener.
	mustPut(t, s, testBuild(100000, 1000, api.StatusQueued, "later"))
	if s2, err := Open(s.Path()); err == nil {
		s2.Close()
		t.Error("Open of a compacted history in use succeeded")
	}
}
