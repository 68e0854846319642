package slots

import (
	"github.com/sdbuild/sdbuild/internal/idmap"

	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Pool hands out the slots of one lock directory. Its methods may be called
// from many goroutines; several processes may open pools on one directory.
type Pool struct {
	opt    Options
	nspawn nspawnLocks

	mu     sync.Mutex
	slots  []slotState // protected by mu
	closed bool        // protected by mu
}

// slotState is what this process knows about one slot.
type slotState struct {
	// busy: an Acquire is working on the slot, or it is leased. The flock
	// alone would keep two of our leases apart too; this saves the open and
	// the refused flock for slots we hold ourselves.
	busy bool
	q    *quarantine // non-nil while quarantined
}

// Open prepares a pool on opt.Dir, creating the directory 0700 if missing.
// Lock files are created as slots are first acquired.
func Open(opt Options) (*Pool, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	// In a container whose user namespace does not map the range, builds
	// could never be given their ids: refuse now, naming the limit.
	if !opt.Shared {
		if err := idmap.CheckSelf(uint64(opt.StartID), uint64(opt.StartGID), uint64(opt.IDsPerBuild)*uint64(opt.Slots)); err != nil {
			return nil, fmt.Errorf("open slot pool: %w", err)
		}
	}
	if err := prepareDir(opt.Dir); err != nil {
		return nil, err
	}
	p := &Pool{opt: opt, slots: make([]slotState, opt.Slots)}
	if !opt.Shared && os.Geteuid() == 0 {
		p.nspawn.dir = opt.NspawnLockDir
	}
	return p, nil
}

// LockPath returns the lock file of slot in dir, for tools that read records.
func LockPath(dir string, slot int) string {
	return filepath.Join(dir, "slot-"+strconv.Itoa(slot))
}

// Acquire leases the lowest free slot to buildID. With no slot free, the
// error wraps ErrNoFreeSlot.
//
// Before a slot is handed out, Acquire takes systemd-nspawn's locks on its
// ranges (see nspawn.go; a slot whose range a container holds is skipped
// like a busy one) and then kills, and waits for, every process on the host
// that holds any of the slot's ids as real, effective, saved or fs uid or
// gid, or supplementary group, in any thread: left by an older sdbuild,
// started by an administrator, or escaped from a build, such a process
// shares the build's identity and could signal, ptrace or rewrite it. A
// slot whose record shows a holder that did not release cleanly also has
// its recorded cgroup and init process killed. A slot that cannot be
// cleared within KillTimeout is quarantined, logged and skipped.
//
// The host's processes are scanned on every Acquire, not only after an
// unclean release: an id can be taken up at any time by root, by a
// container whose user namespace maps it, or by running a set-user-ID file
// a build left, so no earlier scan or record can vouch for the slot. The
// scan reads /proc/PID/status once per process (and per thread of a
// process whose leader holds none of the ids, except the caller, whose
// leader alone is read); BenchmarkScanRange measures it.
func (p *Pool) Acquire(buildID string) (*Lease, error) {
	if buildID == "" {
		return nil, fmt.Errorf("acquire slot: empty build id")
	}
	for i := range p.opt.Slots {
		q, ok, err := p.claim(i)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		l, err := p.tryClaimed(i, q, buildID)
		if l != nil || err != nil {
			return l, err
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return nil, &noFreeSlotError{slots: p.opt.Slots, quarantined: p.quarantinedLocked()}
}

// claim marks slot i busy for this Acquire unless it already is, and returns
// its quarantine, if any.
func (p *Pool) claim(i int) (*quarantine, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, false, fmt.Errorf("acquire slot: %w", ErrPoolClosed)
	}
	s := &p.slots[i]
	if s.busy {
		return nil, false, nil
	}
	s.busy = true
	return s.q, true, nil
}

// unclaim gives up a claim; q is the slot's quarantine from now on (nil: none).
func (p *Pool) unclaim(i int, q *quarantine) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed && q != nil {
		// Close ran while this slot was being retried; finish its work.
		closeProcs(q.procs)
		closeFD(q.fd)
		q = nil
	}
	p.slots[i] = slotState{q: q}
}

// free ends a lease's hold on slot i.
func (p *Pool) free(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slots[i] = slotState{}
}

// leased turns a claim into a lease; the slot is no longer quarantined.
func (p *Pool) leased(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slots[i] = slotState{busy: true}
}

// tryClaimed tries to lease claimed slot i. It returns a nil Lease and nil
// error when the slot is held elsewhere or stays quarantined; the claim is
// then given up.
func (p *Pool) tryClaimed(i int, q *quarantine, buildID string) (*Lease, error) {
	path := LockPath(p.opt.Dir, i)
	var (
		fd    int
		rec   Record
		dirty bool
	)
	if q != nil {
		if anyAlive(q.procs) {
			p.unclaim(i, q)
			return nil, nil
		}
		closeProcs(q.procs)
		fd, rec, dirty = q.fd, q.rec, true
	} else {
		var busy bool
		var err error
		fd, busy, err = lockSlotFile(path)
		if err != nil || busy {
			p.unclaim(i, nil)
			if err != nil {
				return nil, fmt.Errorf("lock slot %d (%s): %w", i, path, err)
			}
			return nil, nil
		}
		b, err := readFD(fd)
		if err != nil {
			closeFD(fd)
			p.unclaim(i, nil)
			return nil, fmt.Errorf("read slot %d record (%s): %w", i, path, err)
		}
		// A record that does not parse says nothing about its holder, so it
		// is treated like one that died holding the slot.
		rec, err = decodeRecord(b)
		dirty = err != nil || (len(b) > 0 && !rec.clean())
	}

	first, firstGID, count := p.opt.slotRange(i)
	ids := slotIDs{uids: idRange{first, count}, gids: idRange{firstGID, count}}
	// Locked before the scan, so no container can be given the ids after
	// it, and a container that has them is skipped, never killed.
	bases := slotNspawnBases(ids)
	if busy, err := p.nspawn.take(bases); err != nil || busy {
		if q == nil {
			closeFD(fd)
		}
		p.unclaim(i, q)
		if err != nil {
			return nil, fmt.Errorf("lock slot %d ids %s against systemd-nspawn: %w", i, ids, err)
		}
		return nil, nil
	}
	if p.opt.Shared {
		ids = slotIDs{} // the caller's own id: never kill by it
	}
	holder := rec
	if !dirty {
		// Released cleanly: the recorded init and cgroup are gone for good.
		holder = Record{}
	}
	killed, st := clearSlot(holder, ids, p.opt.OwnCode, p.opt.KillTimeout)
	if len(killed) > 0 {
		p.opt.Log.Warn("killed processes holding a slot's ids", "slot", i, "ids", ids.String(), "pids", killed)
	}
	if st != nil {
		p.nspawn.drop(bases)
		rec.State, rec.Quarantine = StateHeld, st.reason
		if err := writeRecord(fd, rec); err != nil {
			st.reason += fmt.Sprintf(" (record not updated: %v)", err)
		}
		p.opt.Log.Error("slot quarantined: not handed out until its processes are gone", "slot", i, "ids", ids.String(), "reason", st.reason)
		p.unclaim(i, &quarantine{
			info:  Quarantine{Slot: i, Reason: st.reason, PIDs: pidsOf(st.procs)},
			fd:    fd,
			rec:   rec,
			procs: st.procs,
		})
		return nil, nil
	}

	rec = Record{BuildID: buildID, State: StateHeld, Since: time.Now().UTC()}
	if err := writeRecord(fd, rec); err != nil {
		// The record on disk still shows the old, unclean holder or an
		// older lease, so whoever takes the slot next clears it.
		p.nspawn.drop(bases)
		closeFD(fd)
		p.unclaim(i, nil)
		return nil, fmt.Errorf("write slot %d record (%s): %w", i, path, err)
	}
	p.leased(i)
	return &Lease{Slot: i, FirstID: first, FirstGID: firstGID, Count: count, pool: p, path: path, fd: fd, rec: rec, nspawn: bases}, nil
}

// Close gives up the locks this pool keeps on quarantined slots; their
// records still name the unclean holder, so the next owner clears them.
// Outstanding leases stay valid and are still released with Release.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var errs []error
	for i := range p.slots {
		if q := p.slots[i].q; q != nil && !p.slots[i].busy {
			closeProcs(q.procs)
			if err := closeFD(q.fd); err != nil {
				errs = append(errs, fmt.Errorf("close slot %d lock: %w", i, err))
			}
			p.slots[i].q = nil
		}
	}
	return errors.Join(errs...)
}
