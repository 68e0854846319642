package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
	bolt "go.etcd.io/bbolt"
)

// writerEnv switches the test binary into the writer process of
// TestSurvivesKill: its value is the history file to write to.
const writerEnv = "SDBUILD_HISTORY_TEST_WRITER"

func TestMain(m *testing.M) {
	if path := os.Getenv(writerEnv); path != "" {
		os.Exit(writeUntilKilled(path, os.Getenv(writerEnv+"_ROUND")))
	}
	// A tenth of the real lock wait still shows that a held lock makes Open
	// fail, without TestOpenInUse and TestSurvivesKill waiting a second each.
	lockTimeout = 100 * time.Millisecond
	os.Exit(m.Run())
}

func testPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "history.db")
}

func mustOpen(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustPut(t testing.TB, s *Store, b *api.Build) {
	t.Helper()
	if err := s.Put(b); err != nil {
		t.Fatalf("Put(%s): %v", b.ID, err)
	}
}

// testBuild returns a build that differs from testBuild(j) for every j != i.
func testBuild(i int, uid uint32, status api.Status, name string) *api.Build {
	return &api.Build{
		ID:      fmt.Sprintf("%012x", 0xb000000+i),
		Name:    name,
		User:    fmt.Sprintf("u%d", uid),
		UID:     uid,
		Outcome: api.Outcome{Status: status},
		Slot:    -1,
		Args:    []string{"make", fmt.Sprint(i)},
		Created: time.Date(2025, 1, 1, 0, 0, i, 0, time.UTC),
	}
}

func ids(bs []*api.Build) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.ID
	}
	return out
}

// checkConsistent verifies bbolt's own page structure and that every index
// agrees with the records: ids maps each record's id to its seq and nothing
// else, uids holds exactly uid‖seq for each record, and active holds exactly
// the records whose status is not final.
func checkConsistent(t *testing.T, s *Store) {
	t.Helper()
	err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		builds, idx := tx.Bucket(bucketBuilds), tx.Bucket(bucketIDs)
		uids, active := tx.Bucket(bucketUIDs), tx.Bucket(bucketActive)
		wantUIDs, wantActive := 0, 0
		err := builds.ForEach(func(seq, v []byte) error {
			var b api.Build
			if err := json.Unmarshal(v, &b); err != nil {
				t.Errorf("record %x: %v", seq, err)
				return nil
			}
			if got := idx.Get([]byte(b.ID)); !bytes.Equal(got, seq) {
				t.Errorf("ids[%s] = %x, want %x", b.ID, got, seq)
			}
			if uids.Get(uidKey(b.UID, seq)) == nil {
				t.Errorf("uids lacks %d‖%x", b.UID, seq)
			}
			wantUIDs++
			if inActive := active.Get(seq) != nil; inActive != !b.Status.Finished() {
				t.Errorf("record %x status %s: in active set = %v", seq, b.Status, inActive)
			}
			if !b.Status.Finished() {
				wantActive++
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n := builds.Stats().KeyN; idx.Stats().KeyN != n {
			t.Errorf("ids has %d entries, builds %d", idx.Stats().KeyN, n)
		}
		if n := uids.Stats().KeyN; n != wantUIDs {
			t.Errorf("uids has %d entries, want %d", n, wantUIDs)
		}
		if n := active.Stats().KeyN; n != wantActive {
			t.Errorf("active has %d entries, want %d", n, wantActive)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
