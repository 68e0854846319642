package history

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/sdbuild/sdbuild/api"
)

// The writer process stores builds from several goroutines, as the daemon
// does, each build first queued and then succeeded, and prints
// "put <id> <status>" only after Put returned nil: every line is a promise
// that the record is committed.
const writerWorkers = 4

func writeUntilKilled(path, round string) int {
	s, err := Open(path)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	var mu sync.Mutex // one line per write(2), never interleaved
	report := func(b *api.Build) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, "put %s %s\n", b.ID, b.Status)
	}
	var wg sync.WaitGroup
	for w := range writerWorkers {
		wg.Go(func() {
			for i := 0; ; i++ {
				b := writerBuild(round, w, i)
				for _, st := range []api.Status{api.StatusQueued, api.StatusSucceeded} {
					b.Status = st
					if err := s.Put(b); err != nil {
						fmt.Println("error:", err)
						os.Exit(1)
					}
					report(b)
				}
			}
		})
	}
	wg.Wait() // never: the test kills this process
	return 0
}

func writerBuild(round string, worker, i int) *api.Build {
	return &api.Build{
		ID:   fmt.Sprintf("r%s-w%d-%d", round, worker, i),
		Name: fmt.Sprintf("crash-%d", i),
		UID:  uint32(1000 + worker),
		Slot: -1,
		Args: []string{"make", "-j", fmt.Sprint(i)},
	}
}

// TestSurvivesKill SIGKILLs a process writing to the history in the middle of
// its stream of commits, a few times over, and checks after each kill that
// the file opens, passes bbolt's consistency check, holds every record the
// process reported committed, with the reported status or a later one, and
// that the indexes agree with the records.
func TestSurvivesKill(t *testing.T) {
	path := testPath(t)
	committed := map[string]api.Status{}
	for round, killAfter := range []int{30, 61, 97, 150} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), writerEnv+"="+path, fmt.Sprintf("%s_ROUND=%d", writerEnv, round))
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { // in case a check below stops the test early
			cmd.Process.Kill()
			cmd.Wait()
		})
		lines := bufio.NewScanner(stdout)
		read := func() bool {
			if !lines.Scan() {
				return false
			}
			var id, status string
			if _, err := fmt.Sscanf(lines.Text(), "put %s %s", &id, &status); err != nil {
				t.Fatalf("round %d: writer said %q", round, lines.Text())
			}
			committed[id] = api.Status(status)
			return true
		}
		for n := 0; n < killAfter; n++ {
			if !read() {
				cmd.Wait()
				t.Fatalf("round %d: writer stopped after %d writes", round, n)
			}
			if n == 0 {
				// A second daemon is turned away while the writer holds the file.
				if s, err := Open(path); err == nil {
					s.Close()
					t.Fatalf("round %d: Open succeeded while the writer had the history open", round)
				} else {
					checkInUse(t, err, path)
				}
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Lines the writer got out before it died are promises too.
		for read() {
		}
		if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("round %d: writer exited with %v, want killed", round, err)
		}

		s, err := Open(path)
		if err != nil {
			t.Fatalf("round %d: Open after kill: %v", round, err)
		}
		checkCommitted(t, s, committed)
		checkConsistent(t, s)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d builds reported committed over 4 kills", len(committed))
}

func checkCommitted(t *testing.T, s *Store, committed map[string]api.Status) {
	t.Helper()
	for id, status := range committed {
		b, err := s.Get(id)
		if err != nil {
			t.Errorf("reported committed, then Get(%s): %v", id, err)
			continue
		}
		var round string
		var w, i int
		if _, err := fmt.Sscanf(strings.ReplaceAll(id, "-", " "), "r%s w%d %d", &round, &w, &i); err != nil {
			t.Fatalf("writer reported id %q: %v", id, err)
		}
		want := writerBuild(round, w, i)
		if b.Name != want.Name || b.UID != want.UID || fmt.Sprint(b.Args) != fmt.Sprint(want.Args) {
			t.Errorf("Get(%s) = %+v, want %+v", id, b, want)
		}
		// The kill may land between a commit and its report, so a record
		// can be one step ahead of what was reported, never behind.
		if b.Status != status && !(status == api.StatusQueued && b.Status == api.StatusSucceeded) {
			t.Errorf("Get(%s).Status = %s, reported committed %s", id, b.Status, status)
		}
	}
}
