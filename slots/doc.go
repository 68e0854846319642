// Package slots leases UID slots: lock-file-protected ranges of host UIDs/GIDs,
// one per running build.
//
// Slot i owns host ids [StartID + i*IDsPerBuild, StartID + (i+1)*IDsPerBuild),
// uids and gids alike. Its lock file <Dir>/slot-<i> is held with an exclusive
// flock for as long as the slot is leased, and holds a one-line JSON Record
// naming the build that last held it.
//
// Invariant: a slot is leased to at most one live build; its lock file names
// what last held it. Two guards enforce the first half: the flock (across
// processes, and within one process too, because flock locks belong to the
// open file description and every Acquire opens the file afresh) and the
// pool's in-process slot table (so a process never even tries a slot it has
// leased itself).
//
// Invariant: when Acquire hands out a slot, no process outside the build
// holds any of its ids, as real, effective, saved or fs uid or gid or as a
// supplementary group, in any thread; and no systemd-nspawn container can
// be given them while the lease lasts. Acquire enforces both: it takes
// nspawn's range locks, then kills every such process it finds in /proc
// (and what an unclean holder's record names); a slot whose processes
// cannot be killed is quarantined, logged and reported by Quarantined
// instead. Ids taken up after the scan (by root, or by a container that
// maps them without nspawn's lock) are outside what a scan can promise.
//
// Lock order: Lease.mu before Pool.mu; nspawnLocks.mu is a leaf, never held
// with Pool.mu. Pool.mu is never held across file I/O, a kill or a wait, so
// one slot being cleared never stalls other Acquires.
package slots
