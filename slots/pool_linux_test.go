package slots

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestOpenCreatesPrivateDir(t *testing.T) {
	opt := testOptions(t, 2)
	mustOpen(t, opt)
	fi, err := os.Stat(opt.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("lock dir %s mode = %v, want directory 0700", opt.Dir, fi.Mode())
	}
}

func TestOpenRefusesUnsafeDir(t *testing.T) {
	tests := []struct {
		name  string
		setup func(dir string) error
	}{
		{"group writable", func(d string) error { return os.Chmod(d, 0o770) }},
		{"world writable", func(d string) error { return os.Chmod(d, 0o777) }},
		{"symlink", func(d string) error {
			if err := os.Remove(d); err != nil {
				return err
			}
			return os.Symlink(t.TempDir(), d)
		}},
		{"file", func(d string) error {
			if err := os.Remove(d); err != nil {
				return err
			}
			return os.WriteFile(d, nil, 0o600)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := testOptions(t, 1)
			if err := os.Mkdir(opt.Dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := tt.setup(opt.Dir); err != nil {
				t.Fatal(err)
			}
			if p, err := Open(opt); err == nil {
				p.Close()
				t.Fatalf("Open on %s dir succeeded, want error", tt.name)
			}
		})
	}
}

func TestAcquireWritesRecord(t *testing.T) {
	opt := testOptions(t, 4)
	p := mustOpen(t, opt)
	l, err := p.Acquire("build-1")
	if err != nil {
		t.Fatal(err)
	}
	if l.Slot != 0 || l.FirstID != testStartID || l.Count != 65536 {
		t.Errorf("lease = slot %d ids %d+%d, want slot 0 ids %d+65536", l.Slot, l.FirstID, l.Count, testStartID)
	}
	path := LockPath(opt.Dir, 0)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode = %v, want 0600", fi.Mode().Perm())
	}
	rec, err := ReadRecord(path)
	if err != nil || rec.BuildID != "build-1" || rec.State != StateHeld || rec.Since.IsZero() {
		t.Errorf("record while leased = %+v, %v; want build-1 held with a time", rec, err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	rec, err = ReadRecord(path)
	if err != nil || rec.BuildID != "build-1" || rec.State != StateReleased {
		t.Errorf("record after release = %+v, %v; want build-1 released", rec, err)
	}
}

func TestAcquireDistinctSlotsAndExhaustion(t *testing.T) {
	const n = 3
	p := mustOpen(t, testOptions(t, n))
	seen := map[int]bool{}
	var leases []*Lease
	for i := range n {
		l, err := p.Acquire(fmt.Sprint("b", i))
		if err != nil {
			t.Fatalf("Acquire %d: %v", i, err)
		}
		if seen[l.Slot] {
			t.Fatalf("slot %d leased twice", l.Slot)
		}
		seen[l.Slot] = true
		leases = append(leases, l)
	}
	_, err := p.Acquire("one too many")
	if !errors.Is(err, ErrNoFreeSlot) {
		t.Fatalf("Acquire on a full pool = %v, want ErrNoFreeSlot", err)
	}
	if want := "all 3 UID slots are in use; wait, or raise id-count"; err.Error() != want {
		t.Errorf("error text = %q, want %q", err, want)
	}
	// A released slot is the one handed out next.
	if err := leases[1].Release(); err != nil {
		t.Fatal(err)
	}
	l, err := p.Acquire("again")
	if err != nil || l.Slot != leases[1].Slot {
		t.Fatalf("Acquire after releasing slot %d = %v, %v; want that slot", leases[1].Slot, l, err)
	}
}

func TestReleaseTwice(t *testing.T) {
	p := mustOpen(t, testOptions(t, 1))
	l, err := p.Acquire("b")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("first Release: %v", err)
	}
	if err := l.Release(); !errors.Is(err, ErrReleased) {
		t.Errorf("second Release = %v, want ErrReleased", err)
	}
	if err := l.SetHolder(Holder{Unit: "x.scope"}); !errors.Is(err, ErrReleased) {
		t.Errorf("SetHolder after Release = %v, want ErrReleased", err)
	}
}

// flock locks belong to the open file description: a second open of the
// same lock file in the same process must be refused.
func TestLockExcludesSecondOpenInProcess(t *testing.T) {
	path := t.TempDir() + "/slot-0"
	fd, busy, err := lockSlotFile(path)
	if err != nil || busy {
		t.Fatalf("first lockSlotFile = %v, %v", busy, err)
	}
	if _, busy, err := lockSlotFile(path); err != nil || !busy {
		t.Fatalf("second lockSlotFile while held = busy %v, %v; want busy", busy, err)
	}
	closeFD(fd)
	fd, busy, err = lockSlotFile(path)
	if err != nil || busy {
		t.Fatalf("lockSlotFile after close = busy %v, %v; want lock", busy, err)
	}
	closeFD(fd)
}

// Two pools in one process share nothing but the lock files, so only the
// flock keeps them apart.
func TestTwoPoolsInOneProcess(t *testing.T) {
	opt := testOptions(t, 2)
	a, b := mustOpen(t, opt), mustOpen(t, opt)
	la, err := a.Acquire("a")
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.Acquire("b")
	if err != nil {
		t.Fatal(err)
	}
	if la.Slot == lb.Slot {
		t.Fatalf("two pools both leased slot %d", la.Slot)
	}
	if _, err := b.Acquire("c"); !errors.Is(err, ErrNoFreeSlot) {
		t.Errorf("third Acquire across two pools = %v, want ErrNoFreeSlot", err)
	}
}

func TestLockFileIsNotFollowed(t *testing.T) {
	opt := testOptions(t, 1)
	p := mustOpen(t, opt)
	target := t.TempDir() + "/target"
	if err := os.Symlink(target, LockPath(opt.Dir, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Acquire("b"); err == nil || errors.Is(err, ErrNoFreeSlot) {
		t.Errorf("Acquire through a symlinked lock file = %v, want a lock error", err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("symlink target was created: %v", err)
	}
}

func TestSetHolder(t *testing.T) {
	opt := testOptions(t, 1)
	p := mustOpen(t, opt)
	l, err := p.Acquire("b")
	if err != nil {
		t.Fatal(err)
	}
	pid := os.Getpid()
	_, start, err := pidStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SetHolder(Holder{PID: pid}); err != nil {
		t.Fatal(err)
	}
	if err := l.SetHolder(Holder{Unit: "sdbuild-b.scope", Cgroup: "/sdbuild-slots-test-absent.slice/b.scope"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Holder{{PID: -1}, {Cgroup: "/"}, {Cgroup: "/a/../b"}, {Cgroup: "rel"}} {
		if err := l.SetHolder(bad); err == nil {
			t.Errorf("SetHolder(%+v) succeeded, want error", bad)
		}
	}
	want := Record{BuildID: "b", State: StateHeld, PID: pid, PIDStart: start, Unit: "sdbuild-b.scope", Cgroup: "/sdbuild-slots-test-absent.slice/b.scope"}
	got, err := ReadRecord(LockPath(opt.Dir, 0))
	got.Since = time.Time{}
	if err != nil || got != want {
		t.Errorf("record = %+v, %v; want %+v", got, err, want)
	}
	// This process, the recorded init, is alive: Release must not claim a
	// clean release.
	if err := l.Release(); !errors.Is(err, ErrHolderAlive) {
		t.Errorf("Release with live init = %v, want ErrHolderAlive", err)
	}
	if got, _ := ReadRecord(LockPath(opt.Dir, 0)); got.State != StateHeld {
		t.Errorf("record state after refused release = %q, want held", got.State)
	}
	// The next Acquire must clear the slot, and must refuse to kill itself.
	if _, err := p.Acquire("next"); !errors.Is(err, ErrNoFreeSlot) {
		t.Fatalf("Acquire of a slot recorded as held by this process = %v, want ErrNoFreeSlot", err)
	}
	if q := p.Quarantined(); len(q) != 1 || q[0].Slot != 0 {
		t.Errorf("Quarantined() = %+v, want slot 0", q)
	}
}

// Concurrent Acquires in one process never share a slot.
func TestConcurrentAcquire(t *testing.T) {
	const slots, workers, rounds = 4, 8, 40
	p := mustOpen(t, testOptions(t, slots))
	var inUse [slots]atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; {
				l, err := p.Acquire(fmt.Sprintf("w%d-%d", w, r))
				if errors.Is(err, ErrNoFreeSlot) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if n := inUse[l.Slot].Add(1); n != 1 {
					errs <- fmt.Errorf("slot %d held by %d leases", l.Slot, n)
				}
				inUse[l.Slot].Add(-1)
				if err := l.Release(); err != nil {
					errs <- err
					return
				}
				r++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestAcquireAfterClose(t *testing.T) {
	p := mustOpen(t, testOptions(t, 1))
	p.Close()
	if _, err := p.Acquire("b"); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("Acquire after Close = %v, want ErrPoolClosed", err)
	}
}

// A slot is free again as soon as Release returns, even while another
// process holds a copy of its lock file's descriptor: as a child the
// daemon forks (a prepared sandbox's init) does between its fork and its
// exec, which closes the copy. A flock belongs to the open file, not to
// one descriptor, so Release must unlock it, not only close its own.
func TestReleaseFreesSlotWhileDescriptorIsShared(t *testing.T) {
	p := mustOpen(t, testOptions(t, 1))
	l, err := p.Acquire("b")
	if err != nil {
		t.Fatal(err)
	}
	// The child's copy of the descriptor, kept past exec for the test.
	dup, err := unix.Dup(l.fd)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(dup), "slot lock")
	child := exec.Command("sleep", "30")
	child.ExtraFiles = []*os.File{f}
	err = child.Start()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := p.Acquire("next")
	if err != nil {
		t.Fatalf("Acquire after Release, a copy of the lock's descriptor open elsewhere: %v", err)
	}
	again.Release()
}
