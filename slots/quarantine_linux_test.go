package slots

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

const freezerRoot = "/sys/fs/cgroup/freezer"

// frozenCgroup makes a fresh cgroup-v1 freezer cgroup. A task in a frozen v1
// freezer cgroup stays in the kernel after SIGKILL until the cgroup is
// thawed: a real process that survives SIGKILL, as a task stuck in D state
// would. The test skips if this host has no v1 freezer.
func frozenCgroup(t *testing.T) (dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(freezerRoot, "tasks")); err != nil {
		t.Skipf("no cgroup v1 freezer at %s (%v): cannot make a process survive SIGKILL", freezerRoot, err)
	}
	dir = filepath.Join(freezerRoot, fmt.Sprintf("sdbuild-slots-test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("make freezer cgroup: %v", err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Errorf("remove freezer cgroup %s: %v", dir, err)
		}
	})
	return dir
}

func setFreezer(t *testing.T, dir, state string) {
	t.Helper()
	// Freezing can pass through FREEZING; writing FROZEN again retries the
	// tasks not yet frozen (Documentation/admin-guide/cgroup-v1/freezer-subsystem.rst).
	for range 1000 {
		if err := os.WriteFile(filepath.Join(dir, "freezer.state"), []byte(state), 0); err != nil {
			t.Fatalf("write %s to %s/freezer.state: %v", state, dir, err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "freezer.state"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(b)) == state {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("freezer cgroup %s never reached %s", dir, state)
}

func TestQuarantineProcessSurvivingSIGKILL(t *testing.T) {
	testutil.RequireRoot(t, whyRoot)
	fz := frozenCgroup(t)
	in := uint32(testStartID + 42)
	s := startSleeper(t, asIDs(in, in))
	if err := os.WriteFile(filepath.Join(fz, "cgroup.procs"), []byte(fmt.Sprint(s.pid())), 0); err != nil {
		t.Fatalf("move sleep into freezer cgroup: %v", err)
	}
	setFreezer(t, fz, "FROZEN")
	// Registered after startSleeper, so it runs first: thaw before the kill
	// and wait in startSleeper's cleanup.
	t.Cleanup(func() { setFreezer(t, fz, "THAWED") })

	opt := testOptions(t, 1)
	opt.KillTimeout = 200 * time.Millisecond
	writeSlotFile(t, opt.Dir, 0, recordText(t, Record{BuildID: "crashed", State: StateHeld}))
	p := mustOpen(t, opt)

	reason := fmt.Sprintf("pid %d survived SIGKILL for 200ms", s.pid())
	wantErr := fmt.Sprintf("all 1 UID slots are in use; wait, or raise id-count (1 quarantined: slot 0: %s)", reason)
	wantQ := []Quarantine{{Slot: 0, Reason: reason, PIDs: []int{s.pid()}}}
	check := func(p *Pool, when string) {
		t.Helper()
		_, err := p.Acquire("new")
		if !errors.Is(err, ErrNoFreeSlot) || err.Error() != wantErr {
			t.Fatalf("Acquire %s = %v, want %q", when, err, wantErr)
		}
		q := p.Quarantined()
		if len(q) != 1 || q[0].Slot != 0 || q[0].Reason != reason || !slices.Equal(q[0].PIDs, wantQ[0].PIDs) {
			t.Errorf("Quarantined() %s = %+v, want %+v", when, q, wantQ)
		}
		if s.exited() {
			t.Fatalf("frozen sleep exited %s; the test needs it to survive SIGKILL", when)
		}
	}
	check(p, "with the frozen process")
	rec, err := ReadRecord(LockPath(opt.Dir, 0))
	if err != nil || rec.State != StateHeld || rec.BuildID != "crashed" || rec.Quarantine != reason {
		t.Errorf("record of quarantined slot = %+v, %v; want crashed, held, quarantine %q", rec, err, reason)
	}
	// The pool keeps the quarantined slot locked, so no other process takes it.
	if _, busy, err := lockSlotFile(LockPath(opt.Dir, 0)); err != nil || !busy {
		t.Errorf("lock of quarantined slot from elsewhere = busy %v, %v; want busy", busy, err)
	}
	check(p, "again while still frozen")

	// Another pool (as after a daemon restart) finds the quarantine in the
	// record once the first lets go, and tries to clear the slot itself.
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = mustOpen(t, opt)
	check(p, "from a new pool")

	setFreezer(t, fz, "THAWED")
	err = s.cmd.Wait() // the pending SIGKILL lands once thawed
	if ws, ok := s.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("thawed sleep ended with %v, want SIGKILL", err)
	}
	l, err := p.Acquire("new")
	if err != nil || l.Slot != 0 {
		t.Fatalf("Acquire after thaw = %v, %v; want slot 0", l, err)
	}
	if q := p.Quarantined(); len(q) != 0 {
		t.Errorf("Quarantined() after clearing = %+v, want none", q)
	}
	rec, err = ReadRecord(LockPath(opt.Dir, 0))
	if err != nil || rec.BuildID != "new" || rec.State != StateHeld || rec.Quarantine != "" {
		t.Errorf("record after clearing = %+v, %v; want new, held, no quarantine", rec, err)
	}
}
