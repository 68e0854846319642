package slots

import (
	"slices"
	"sync"
)

// systemd-nspawn --private-users=pick gives a container the 65536 uids and
// gids from a base it picks: a multiple of 65536 from 0x00080000 to
// 0x6FFF0000, first one hashed from the machine name, then random ones. It
// holds an exclusive open file description lock (fcntl F_OFD_SETLK, not
// flock) on <NspawnLockDir>/<base in decimal> for the container's life,
// skips a base whose lock is held, and unlinks the file when it lets go
// (systemd 252: uid_shift_pick and make_lock_file). A pool that takes the
// same locks for its leased slots is never given a slot's ids to a new
// container. Slots outside nspawn's pick range need no lock.

// DefaultNspawnLockDir is where systemd-nspawn keeps its range locks.
const DefaultNspawnLockDir = "/run/systemd/nspawn-uid"

// NspawnPickFirst and NspawnPickLast are the first and last ids of the
// range nspawn picks from, which is systemd's container range
// (docs/UIDS-GIDS.md; systemd-nsresourced hands out ranges of it too).
// config refuses or reports a build id range inside it.
const (
	NspawnPickFirst = 0x00080000
	NspawnPickLast  = 0x6FFFFFFF
)

const (
	nspawnRangeSize = 0x10000
	nspawnPickMin   = NspawnPickFirst                      // the lowest base
	nspawnPickMax   = NspawnPickLast + 1 - nspawnRangeSize // the highest base
)

// nspawnBases returns the bases nspawn could pick whose range shares an id
// with [first, first+count), lowest first. nspawn maps uids and gids with
// one base, so a slot whose gids start elsewhere needs the bases of both.
func nspawnBases(first, count uint32) []uint32 {
	end := uint64(first) + uint64(count) // exclusive
	lo := max(uint64(first)&^(nspawnRangeSize-1), nspawnPickMin)
	var bs []uint32
	for b := lo; b < end && b <= nspawnPickMax; b += nspawnRangeSize {
		bs = append(bs, uint32(b))
	}
	return bs
}

// slotNspawnBases returns the bases covering both of a slot's ranges,
// without repeats, lowest first.
func slotNspawnBases(s slotIDs) []uint32 {
	bs := nspawnBases(s.uids.first, s.uids.count)
	for _, b := range nspawnBases(s.gids.first, s.gids.count) {
		if !slices.Contains(bs, b) {
			bs = append(bs, b)
		}
	}
	slices.Sort(bs)
	return bs
}

// nspawnLocks are the nspawn range locks a pool holds, by base. Slots of
// fewer than 65536 ids, or not aligned to 65536, share a base with their
// neighbours, and an OFD lock refuses a second open of its file even in
// the same process, so each base is locked once and counted.
//
// mu is a leaf lock: taken without Pool.mu, after Lease.mu when a lease is
// released; it is held across the open, fcntl, unlink and close of lock
// files, none of which waits for another process.
type nspawnLocks struct {
	dir string // "" when this pool takes no nspawn locks

	mu   sync.Mutex
	held map[uint32]*nspawnHold // protected by mu
}

// nspawnHold is one locked base. fd is -1 when there is no lock directory
// to lock in (see lockNspawnBase).
type nspawnHold struct {
	fd   int
	refs int
}
