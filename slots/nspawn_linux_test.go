package slots

import (
	"errors"
	"os"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// nspawnTestBase is a range nspawn could pick, at the top of its pick
// range, far from sdbuild's default ids; slots of these tests live there.
const nspawnTestBase = 0x6FFE0000

// nspawnLocked reports whether base's lock file in dir is locked by
// someone other than the caller, by trying to lock it.
func nspawnLocked(t *testing.T, dir string, base uint32) bool {
	t.Helper()
	fd, busy, err := lockNspawnBase(dir, base)
	if err != nil {
		t.Fatal(err)
	}
	if !busy {
		if err := unlockNspawnBase(dir, base, fd); err != nil {
			t.Fatal(err)
		}
	}
	return busy
}

// Slots of half a range share one nspawn lock, taken while either is
// leased and unlinked with the last; a range locked by a container keeps
// its slots from being leased.
func TestNspawnLocks(t *testing.T) {
	testutil.RequireRoot(t, "nspawn's locks are taken only by a pool running as root")
	nsDir := t.TempDir() + "/nspawn-uid"
	opt := testOptions(t, 4)
	opt.StartID, opt.IDsPerBuild, opt.NspawnLockDir = nspawnTestBase, 32768, nsDir
	p := mustOpen(t, opt)
	var ls []*Lease
	for range 4 {
		l, err := p.Acquire("b")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	for _, b := range []uint32{nspawnTestBase, nspawnTestBase + 0x10000} {
		if !nspawnLocked(t, nsDir, b) {
			t.Errorf("nspawn range %d not locked with all slots leased", b)
		}
	}
	// Another process's pool (here: another pool, whose open file
	// descriptions are its own) finds every range taken.
	other := opt
	other.Dir = t.TempDir() + "/userpool"
	if _, err := mustOpen(t, other).Acquire("c"); !errors.Is(err, ErrNoFreeSlot) {
		t.Errorf("Acquire from a second pool = %v, want ErrNoFreeSlot", err)
	}
	if err := ls[0].Release(); err != nil {
		t.Fatal(err)
	}
	if !nspawnLocked(t, nsDir, nspawnTestBase) {
		t.Errorf("nspawn range %d unlocked while slot 1 still holds it", nspawnTestBase)
	}
	if err := ls[1].Release(); err != nil {
		t.Fatal(err)
	}
	path := nspawnLockPath(nsDir, nspawnTestBase)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat %s after both its slots were released: %v, want it unlinked", path, err)
	}

	// A container holds the first range: its two slots are skipped.
	fd, busy, err := lockNspawnBase(nsDir, nspawnTestBase)
	if err != nil || busy {
		t.Fatalf("lock nspawn range as a container would: busy %v, %v", busy, err)
	}
	defer unlockNspawnBase(nsDir, nspawnTestBase, fd)
	ls[2].Release()
	l, err := p.Acquire("d")
	if err != nil || l.Slot != 2 {
		t.Fatalf("Acquire with range %d held by a container = %v, %v; want slot 2", nspawnTestBase, l, err)
	}
	l.Release()
	ls[3].Release()
}

// A container started with --private-users=pick is never given a leased
// slot's ids. nspawn tries a base hashed from the machine name first and
// random ones after it, so the test learns the first from one run, leases
// slots covering it and the next range, and checks the pick of a second run.
func TestNspawnPickAvoidsLeasedSlots(t *testing.T) {
	testutil.RequireRoot(t, "runs systemd-nspawn and takes its locks")
	testutil.RequireBinary(t, "systemd-nspawn", "systemd-container")
	const machine = "sdbuild-slots-test"
	first := testutil.NspawnPick(t, machine)
	if first < nspawnPickMin || first > nspawnPickMax || first%nspawnRangeSize != 0 {
		t.Fatalf("nspawn picked base %d, outside the pick range this package assumes", first)
	}
	// Both slots are this test's own range: what holds their ids is killed.
	opt := testOptions(t, 2)
	opt.StartID, opt.NspawnLockDir = first, DefaultNspawnLockDir
	p := mustOpen(t, opt)
	var ls []*Lease
	for range 2 {
		l, err := p.Acquire("b")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	end := uint64(first) + 2*65536
	if got := testutil.NspawnPick(t, machine); uint64(got) >= uint64(first) && uint64(got) < end {
		t.Errorf("with slots %d-%d leased, nspawn picked base %d, inside them", first, end-1, got)
	}
	for _, l := range ls {
		if err := l.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if got := testutil.NspawnPick(t, machine); got != first {
		t.Errorf("after release nspawn picked base %d, want its first choice %d again", got, first)
	}
}
