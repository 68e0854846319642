package slots

import (
	"fmt"
	"log/slog"
	"time"
)

// Options configures a Pool. Configuration is read elsewhere (config/); this
// package only takes the typed values.
type Options struct {
	Dir         string        // lock directory, e.g. <state-dir>/userpool
	StartID     uint32        // first host id (uid) of slot 0
	IDsPerBuild uint32        // ids per slot, uids and gids alike
	Slots       int           // number of slots
	KillTimeout time.Duration // 0 means 5s
	// StartGID is the first host gid of slot 0 when it differs from
	// StartID (a user's subordinate uid and gid grants need not match);
	// 0 means StartID.
	StartGID uint32
	// Shared says that every slot is the one id StartID, the caller's own
	// (a daemon without root and without subordinate ids): slots then only
	// count builds, and clearing one never kills by id, which would kill
	// the caller and its user's session, only by the recorded cgroup and
	// init process.
	Shared bool
	// NspawnLockDir is where systemd-nspawn locks the ranges it gives
	// containers; "" means DefaultNspawnLockDir. Only a pool run by root
	// takes these locks (nspawn --private-users=pick runs as root, and
	// the directory is root's), and never for a shared slot.
	NspawnLockDir string
	// Log hears of the processes killed to clear a slot and of slots
	// quarantined; nil discards.
	Log *slog.Logger
	// OwnCode, if set, names the caller's own child processes that run
	// only the caller's code and cannot be made to run another's (sandbox
	// inits: not dumpable, so not traceable by their builds), for as long
	// as they are not reaped, so their pids cannot be taken by another
	// process meanwhile. The scan reads only their leaders' credentials,
	// as it does the caller's: their other threads never change to other
	// ids than their leader's.
	OwnCode func(pid int) bool
}

const (
	defaultKillTimeout = 5 * time.Second

	// minStartID keeps every slot clear of the host's own users and groups:
	// systemd reserves 0–65535 for them (system, regular, dynamic users and
	// nobody), and clearing a slot kills every process with an id in its range.
	minStartID = 65536

	// maxID is the highest usable id: (uid_t)-1 means "no change" to setuid
	// and chown and can never be a real id.
	maxID = 1<<32 - 2
)

// SlotRange returns the host ids slot owns: count ids starting at first. It is
// pure arithmetic; Open has already checked that every slot fits in 32 bits.
func SlotRange(startID, idsPerBuild uint32, slot int) (first, count uint32) {
	return startID + uint32(slot)*idsPerBuild, idsPerBuild
}

// slotRange returns slot's first uid, first gid and id count under o.
func (o *Options) slotRange(slot int) (uid, gid, count uint32) {
	if o.Shared {
		return o.StartID, o.StartGID, 1
	}
	uid, count = SlotRange(o.StartID, o.IDsPerBuild, slot)
	gid, _ = SlotRange(o.StartGID, o.IDsPerBuild, slot)
	return uid, gid, count
}

// slotIDs are a slot's host uids and gids; the gids start elsewhere when
// a user's subordinate uid and gid grants differ. Empty ranges (a shared
// slot) hold no id.
type slotIDs struct {
	uids, gids idRange
}

func (s slotIDs) empty() bool { return s.uids.count == 0 && s.gids.count == 0 }

func (s slotIDs) String() string {
	if s.uids == s.gids {
		return s.uids.String()
	}
	return "uids " + s.uids.String() + ", gids " + s.gids.String()
}

// idRange is a half-open range of host ids [first, first+count).
type idRange struct {
	first, count uint32
}

func (r idRange) contains(id uint32) bool {
	// Unsigned subtraction: ids below first wrap to large values.
	return id-r.first < r.count
}

func (r idRange) String() string {
	return fmt.Sprintf("%d-%d", r.first, uint64(r.first)+uint64(r.count)-1)
}

// validate checks o and fills in defaults.
func (o *Options) validate() error {
	switch {
	case o.Dir == "":
		return fmt.Errorf("%w: empty lock directory", ErrBadOptions)
	case o.Slots <= 0:
		return fmt.Errorf("%w: slot count %d, want at least 1", ErrBadOptions, o.Slots)
	case o.IDsPerBuild == 0:
		return fmt.Errorf("%w: zero ids per build", ErrBadOptions)
	case o.Shared && o.IDsPerBuild != 1:
		return fmt.Errorf("%w: a shared slot id has %d ids per build, want 1", ErrBadOptions, o.IDsPerBuild)
	case o.StartID < minStartID && !o.Shared:
		return fmt.Errorf("%w: start id %d is below %d, where the host's own users live; clearing a slot kills every process in its range", ErrBadOptions, o.StartID, minStartID)
	case uint64(o.Slots) > maxID:
		return fmt.Errorf("%w: slot count %d exceeds the id space", ErrBadOptions, o.Slots)
	case o.KillTimeout < 0:
		return fmt.Errorf("%w: negative kill timeout %v", ErrBadOptions, o.KillTimeout)
	}
	for _, start := range []uint32{o.StartID, o.StartGID} {
		last := uint64(start) + uint64(o.Slots)*uint64(o.IDsPerBuild) - 1
		if o.Shared {
			last = uint64(start)
		}
		if last > maxID {
			return fmt.Errorf("%w: %d slots of %d ids from %d end at id %d, past %d", ErrBadOptions, o.Slots, o.IDsPerBuild, start, last, uint64(maxID))
		}
	}
	if o.StartGID == 0 {
		o.StartGID = o.StartID
	}
	if o.KillTimeout == 0 {
		o.KillTimeout = defaultKillTimeout
	}
	if o.NspawnLockDir == "" {
		o.NspawnLockDir = DefaultNspawnLockDir
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}
