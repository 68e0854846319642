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
// leased itself). Before a slot whose previous holder did not release it
// cleanly is handed out again, everything that holder may have left running is
// killed; a slot whose processes cannot be killed is quarantined instead.
//
// Lock order: Lease.mu before Pool.mu. Pool.mu is never held across file I/O,
// a kill or a wait, so one slot being cleared never stalls other Acquires.
package slots
