package slots

import (
	"fmt"
	"slices"
	"time"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// clearSlot kills what rec names and every process on the host with any id
// in r (own: see scanRange): for a holder that did not release cleanly,
// its cgroup and its init process if the recorded start time still
// matches (a zero rec names nothing). It waits for all of them to exit,
// until timeout, and returns the pids it signalled, and nil stuck if none
// survived.
func clearSlot(rec Record, r slotIDs, own func(pid int) bool, timeout time.Duration) (killed []int, st *stuck) {
	deadline := time.Now().Add(timeout)
	var cg *cgroup2.Watch
	if validCgroup(rec.Cgroup) {
		var err error
		if cg, err = killCgroup(rec.Cgroup); err != nil {
			return nil, &stuck{reason: err.Error()}
		}
		if cg != nil {
			defer cg.Close()
		}
	}
	var victims []proc
	init, ok, err := openInit(rec.PID, rec.PIDStart)
	if err != nil {
		return nil, &stuck{reason: fmt.Sprintf("open init pid %d: %v", rec.PID, err)}
	}
	if ok {
		victims = append(victims, init)
	}
	killed, survivors, err := killRange(victims, r, own, deadline)
	if err != nil {
		closeProcs(survivors)
		return killed, &stuck{reason: fmt.Sprintf("clear ids %s: %v", r, err)}
	}
	if len(survivors) > 0 {
		return killed, &stuck{reason: survivedReason(pidsOf(survivors), timeout), procs: survivors}
	}
	if cg != nil {
		empty, err := cg.WaitEmpty(deadline)
		if err != nil {
			return killed, &stuck{reason: err.Error()}
		}
		if !empty {
			ps := cgroupMembers(cg)
			return killed, &stuck{reason: fmt.Sprintf("cgroup %s: %s", rec.Cgroup, survivedReason(pidsOf(ps), timeout)), procs: ps}
		}
	}
	return killed, nil
}

// killRange SIGKILLs victims and every process with an id in r, waits for
// them, and scans again until a scan finds nothing: a process in the range
// may have forked after the scan passed its new pid's place in /proc, but a
// killed process forks no more, so the rounds end. It returns the pids it
// signalled and the processes still running at the deadline.
func killRange(victims []proc, r slotIDs, own func(pid int) bool, deadline time.Time) (killed []int, survivors []proc, err error) {
	pending := victims
	for {
		var found []proc
		if !r.empty() { // a shared slot is never scanned
			if found, err = scanRange(r, own); err != nil {
				return killed, pending, err
			}
		}
		pending = append(pending, found...)
		if len(pending) == 0 {
			return killed, nil, nil
		}
		for _, p := range pending {
			if err := sigkill(p); err != nil {
				return killed, pending, fmt.Errorf("kill pid %d: %w", p.pid, err)
			}
			if !slices.Contains(killed, p.pid) {
				killed = append(killed, p.pid)
			}
		}
		if pending, err = waitExit(pending, deadline); err != nil || len(pending) > 0 {
			return killed, pending, err
		}
	}
}
