package history

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
	bolt "go.etcd.io/bbolt"
)

const (
	benchBuilds = 100_000
	benchUsers  = 100 // each owns 1% of the builds
	benchChunk  = 10_000
)

// benchFill stores n builds, benchChunk to a transaction: uid 1000+i%100,
// one in a thousand still running, names pkg-0 … pkg-999.
//
// Not all in one transaction: bbolt splits nodes only when a transaction
// commits, so within one the leaves that scattered ids and uids keys land in
// grow without bound and every insert memmoves them; 100,000 builds in one
// transaction take 20 s, in ten 1 s.
func benchFill(b *testing.B, s *Store, n int) []string {
	statuses := []api.Status{api.StatusSucceeded, api.StatusSucceeded, api.StatusFailed, api.StatusCancelled}
	bs := make([]*api.Build, n)
	idList := make([]string, n)
	for i := range bs {
		st := statuses[i%len(statuses)]
		if i%1000 == 999 {
			st = api.StatusRunning
		}
		bs[i] = &api.Build{
			ID:       fmt.Sprintf("%012x", uint64(i)*0x9e3779b97f4a7c15>>16), // scattered, like random ids
			Name:     fmt.Sprintf("pkg-%d", i%1000),
			User:     fmt.Sprintf("user%d", i%benchUsers),
			UID:      uint32(1000 + i%benchUsers),
			Outcome:  api.Outcome{Status: st},
			Unit:     fmt.Sprintf("sdbuild-%d.scope", i),
			Slot:     i % 128,
			Args:     []string{"nix-build", "-A", fmt.Sprintf("pkg-%d", i%1000)},
			Features: []string{"network"},
			Output:   fmt.Sprintf("/var/lib/sdbuild/out/%d", i),
			Created:  time.Unix(1.7e9+int64(i), 0),
			Started:  time.Unix(1.7e9+int64(i)+1, 0),
			Finished: time.Unix(1.7e9+int64(i)+60, 0),
			CPUUsec:  uint64(i) * 1000,
		}
		idList[i] = bs[i].ID
	}
	start := time.Now()
	for i := 0; i < n; i += benchChunk {
		if err := s.PutAll(bs[i:min(i+benchChunk, n)]); err != nil {
			b.Fatal(err)
		}
	}
	took := time.Since(start)
	fi, err := os.Stat(s.Path())
	if err != nil {
		b.Fatal(err)
	}
	var st bolt.BucketStats
	s.db.View(func(tx *bolt.Tx) error { st = tx.Bucket(bucketBuilds).Stats(); return nil })
	b.Logf("filled %d builds in %d transactions: %v; file %.1f MB, record pages %.0f%% full",
		n, (n+benchChunk-1)/benchChunk, took.Round(time.Millisecond), float64(fi.Size())/1e6, 100*float64(st.LeafInuse)/float64(st.LeafAlloc))
	return idList
}

// BenchmarkHistory100k measures reads of a history of 100,000 builds.
func BenchmarkHistory100k(b *testing.B) {
	s := mustOpen(b, testPath(b))
	ids := benchFill(b, s, benchBuilds)
	uid := uint32(1042)
	list := func(f Filter, want int) func(*testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l, err := s.List(f)
				if err != nil || len(l) != want {
					b.Fatalf("List = %d builds, %v; want %d", len(l), err, want)
				}
			}
		}
	}
	b.Run("List/newest-50", list(Filter{}, 50))
	b.Run("List/uid-1pct-50", list(Filter{UID: &uid}, 50))
	b.Run("List/running-50", list(Filter{Statuses: []api.Status{api.StatusRunning}}, 50))
	// Name and final-status filters read records until 50 match.
	b.Run("List/failed-50", list(Filter{Statuses: []api.Status{api.StatusFailed}}, 50))
	b.Run("List/name-0.1pct-50", list(Filter{Name: "pkg-42"}, 50)) // pkg-42, pkg-420…429: 1.1%
	b.Run("List/name-none", list(Filter{Name: "absent"}, 0))       // reads all 100,000
	b.Run("Active", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if a, err := s.Active(); err != nil || len(a) != benchBuilds/1000 {
				b.Fatalf("Active = %d builds, %v; want %d", len(a), err, benchBuilds/1000)
			}
		}
	})
	b.Run("Get", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i = (i + 7919) % len(ids) // a prime stride: spread over the file
			if _, err := s.Get(ids[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPut compares Put as Store runs it (group: the Puts waiting
// when a commit starts share it) with one db.Update per Put and with
// db.Batch at bbolt's default 10 ms window and at 1 ms, from one goroutine
// and from 16 at once. Every op is a durable commit on the temp dir's file
// system; puts/commit is how many Puts shared a transaction (and its
// fsyncs).
func BenchmarkPut(b *testing.B) {
	for _, commit := range []string{"batch-10ms", "batch-1ms", "update", "group"} {
		for _, par := range []int{1, 16} {
			b.Run(fmt.Sprintf("commit=%s/goroutines=%d", commit, par), func(b *testing.B) {
				s := mustOpen(b, testPath(b))
				run := s.db.Update
				switch commit {
				case "batch-10ms": // bbolt's default
					run, s.db.MaxBatchDelay = s.db.Batch, 10*time.Millisecond
				case "batch-1ms":
					run, s.db.MaxBatchDelay = s.db.Batch, time.Millisecond
				}
				var mu sync.Mutex
				txs := map[int]bool{}
				var n atomic.Int64
				put := func() error {
					i := int(n.Add(1))
					bd := testBuild(i, uint32(1000+i%benchUsers), api.StatusQueued, "bench")
					if commit == "group" {
						return s.Put(bd)
					}
					r, err := encode(bd)
					if err != nil {
						return err
					}
					return run(func(tx *bolt.Tx) error {
						mu.Lock()
						txs[tx.ID()] = true
						mu.Unlock()
						return putTx(tx, r)
					})
				}
				b.ReportAllocs()
				if par == 1 {
					for b.Loop() {
						if err := put(); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					// RunParallel starts SetParallelism × GOMAXPROCS goroutines.
					b.SetParallelism(max(1, par/runtime.GOMAXPROCS(0)))
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := put(); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				commits := len(txs)
				if commit == "group" {
					commits = int(s.commits.Load())
				}
				b.ReportMetric(float64(n.Load())/float64(commits), "puts/commit")
			})
		}
	}
}
