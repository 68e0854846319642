package slots

import (
	"errors"
	"testing"
	"time"
)

func TestNoFreeSlotError(t *testing.T) {
	tests := []struct {
		slots int
		q     []Quarantine
		want  string
	}{
		{128, nil, "all 128 UID slots are in use; wait, or raise id-count"},
		{4, []Quarantine{{Slot: 3, Reason: "pid 4711 survived SIGKILL for 5s", PIDs: []int{4711}}},
			"all 4 UID slots are in use; wait, or raise id-count (1 quarantined: slot 3: pid 4711 survived SIGKILL for 5s)"},
		{8, []Quarantine{{Slot: 3, Reason: "pid 1 survived SIGKILL for 5s"}, {Slot: 5, Reason: "pids 2, 3 survived SIGKILL for 5s"}},
			"all 8 UID slots are in use; wait, or raise id-count (2 quarantined: slot 3: pid 1 survived SIGKILL for 5s; slot 5: pids 2, 3 survived SIGKILL for 5s)"},
	}
	for _, tt := range tests {
		err := error(&noFreeSlotError{slots: tt.slots, quarantined: tt.q})
		if err.Error() != tt.want {
			t.Errorf("error text = %q, want %q", err.Error(), tt.want)
		}
		if !errors.Is(err, ErrNoFreeSlot) {
			t.Errorf("errors.Is(%q, ErrNoFreeSlot) = false", err)
		}
	}
}

func TestSurvivedReason(t *testing.T) {
	tests := []struct {
		pids []int
		want string
	}{
		{[]int{4711}, "pid 4711 survived SIGKILL for 5s"},
		{[]int{1, 2}, "pids 1, 2 survived SIGKILL for 5s"},
		{nil, "processes survived SIGKILL for 5s"},
	}
	for _, tt := range tests {
		if got := survivedReason(tt.pids, 5*time.Second); got != tt.want {
			t.Errorf("survivedReason(%v) = %q, want %q", tt.pids, got, tt.want)
		}
	}
}

func TestPidsOf(t *testing.T) {
	got := pidsOf([]proc{{pid: 5}, {pid: 3}, {pid: 5}})
	if len(got) != 2 || got[0] != 5 || got[1] != 3 {
		t.Errorf("pidsOf = %v, want [5 3]", got)
	}
}
