package slots

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Quarantine reports a slot that could not be cleared: processes of an
// earlier holder survived SIGKILL (a task stuck in uninterruptible sleep, for
// instance in a frozen cgroup), or the clearing itself failed. A quarantined
// slot is not handed out; each later Acquire that reaches it tries again.
type Quarantine struct {
	Slot   int
	Reason string
	PIDs   []int
}

// quarantine is the pool's state for a quarantined slot.
type quarantine struct {
	info Quarantine
	// fd keeps the slot's lock while it is quarantined, so no other process
	// hands the slot out either. If this process exits, the record (state
	// held, with the quarantine reason) makes the next holder clear it.
	fd  int
	rec Record // the unclean holder's record, to clear from again
	// procs are the survivors' pidfds: while one still runs, a retry skips
	// the slot at the cost of one poll instead of a full kill-and-wait.
	procs []proc
}

// Quarantined lists the slots this pool has quarantined, by slot number.
func (p *Pool) Quarantined() []Quarantine {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.quarantinedLocked()
}

func (p *Pool) quarantinedLocked() []Quarantine {
	var qs []Quarantine
	for _, s := range p.slots {
		if s.q != nil {
			q := s.q.info
			q.PIDs = append([]int(nil), q.PIDs...)
			qs = append(qs, q)
		}
	}
	return qs
}

// stuck says why a slot could not be cleared. procs are the survivors, with
// open pidfds the caller now owns; they may be empty if the clearing failed
// for another reason.
type stuck struct {
	reason string
	procs  []proc
}

// proc is a process held by a pidfd.
type proc struct {
	pid, fd int
}

// pidsOf lists the distinct pids of ps, in order.
func pidsOf(ps []proc) []int {
	var pids []int
	for _, p := range ps {
		if !slices.Contains(pids, p.pid) {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

// noFreeSlotError is what Acquire returns when every slot is taken.
type noFreeSlotError struct {
	slots       int
	quarantined []Quarantine
}

func (e *noFreeSlotError) Error() string {
	msg := fmt.Sprintf("all %d UID slots are in use; wait, or raise id-count", e.slots)
	if len(e.quarantined) == 0 {
		return msg
	}
	parts := make([]string, len(e.quarantined))
	for i, q := range e.quarantined {
		parts[i] = fmt.Sprintf("slot %d: %s", q.Slot, q.Reason)
	}
	return fmt.Sprintf("%s (%d quarantined: %s)", msg, len(e.quarantined), strings.Join(parts, "; "))
}

func (e *noFreeSlotError) Unwrap() error { return ErrNoFreeSlot }

// survivedReason words a quarantine: "pid 4711 survived SIGKILL for 5s".
func survivedReason(pids []int, timeout time.Duration) string {
	if len(pids) == 0 {
		return fmt.Sprintf("processes survived SIGKILL for %v", timeout)
	}
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = fmt.Sprint(p)
	}
	noun := "pid"
	if len(pids) > 1 {
		noun = "pids"
	}
	return fmt.Sprintf("%s %s survived SIGKILL for %v", noun, strings.Join(s, ", "), timeout)
}
