package slots

import (
	"fmt"
	"sync"
	"time"
)

// Lease is one build's hold on a slot: host uids [FirstID, FirstID+Count)
// and gids [FirstGID, FirstGID+Count).
type Lease struct {
	Slot     int
	FirstID  uint32
	FirstGID uint32
	Count    uint32

	pool   *Pool
	path   string
	nspawn []uint32 // nspawn range bases locked for the lease

	mu   sync.Mutex
	fd   int    // the locked lock file; protected by mu
	rec  Record // as last written; protected by mu
	done bool   // Release was called; protected by mu
}

// Holder names what runs the build, for the record. Zero fields leave the
// recorded value unchanged, so the daemon can record the init pid as soon as
// it is started and the unit and cgroup once its scope exists.
type Holder struct {
	PID    int    // the build's init process (its pid namespace's init)
	Unit   string // systemd unit, e.g. sdbuild-x.scope
	Cgroup string // relative to the cgroup2 root, e.g. /sdbuild.slice/sdbuild-x.scope
}

// SetHolder records h in the slot's lock file, so that if this process dies
// the next Acquire of the slot kills exactly what h names. The pid is stored
// with its start time, read now from /proc.
func (l *Lease) SetHolder(h Holder) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return fmt.Errorf("set holder of slot %d (%s): %w", l.Slot, l.path, ErrReleased)
	}
	rec := l.rec
	switch {
	case h.PID < 0:
		return fmt.Errorf("set holder of slot %d (%s): negative pid %d", l.Slot, l.path, h.PID)
	case h.Cgroup != "" && !validCgroup(h.Cgroup):
		return fmt.Errorf("set holder of slot %d (%s): cgroup %q is not a clean absolute path below the root", l.Slot, l.path, h.Cgroup)
	case h.PID > 0:
		start, err := pidStartTime(h.PID)
		if err != nil {
			return fmt.Errorf("set holder of slot %d (%s): pid %d: %w", l.Slot, l.path, h.PID, err)
		}
		rec.PID, rec.PIDStart = h.PID, start
	}
	if h.Unit != "" {
		rec.Unit = h.Unit
	}
	if h.Cgroup != "" {
		rec.Cgroup = h.Cgroup
	}
	if err := writeRecord(l.fd, rec); err != nil {
		return fmt.Errorf("set holder of slot %d (%s): %w", l.Slot, l.path, err)
	}
	l.rec = rec
	return nil
}

// Record returns the lease's record as last written.
func (l *Lease) Record() Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rec
}

// Release ends the lease: it marks the record released and drops the lock.
//
// Call it only after the build's init process has exited. A clean release
// lets the next Acquire skip the scan for leftover processes, which is sound
// because a pid namespace's init exits only after every other process in
// the namespace is gone. If the recorded init still runs, Release leaves the
// record marked held, so the next Acquire of the slot kills what is left,
// and returns an error wrapping ErrHolderAlive.
//
// Either way the lease is over when Release returns; calling it again
// returns an error wrapping ErrReleased.
func (l *Lease) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return fmt.Errorf("release slot %d (%s): %w", l.Slot, l.path, ErrReleased)
	}
	l.done = true
	var err error
	if l.rec.PID > 0 && initAlive(l.rec.PID, l.rec.PIDStart) {
		err = fmt.Errorf("release slot %d (%s): pid %d: %w", l.Slot, l.path, l.rec.PID, ErrHolderAlive)
	} else {
		rec := l.rec
		rec.State, rec.Since = StateReleased, time.Now().UTC()
		if werr := writeRecord(l.fd, rec); werr != nil {
			err = fmt.Errorf("release slot %d (%s): %w", l.Slot, l.path, werr)
		} else {
			l.rec = rec
		}
	}
	// The flock goes with the descriptor; only then may this process's
	// other Acquires try the slot.
	if cerr := closeFD(l.fd); cerr != nil && err == nil {
		err = fmt.Errorf("release slot %d (%s): %w", l.Slot, l.path, cerr)
	}
	l.fd = -1
	// The nspawn locks go after the slot's: the build is dead (or, with
	// ErrHolderAlive, its leftovers are the next Acquire's to kill).
	if nerr := l.pool.nspawn.drop(l.nspawn); nerr != nil && err == nil {
		err = fmt.Errorf("release slot %d (%s): %w", l.Slot, l.path, nerr)
	}
	l.pool.free(l.Slot)
	return err
}
