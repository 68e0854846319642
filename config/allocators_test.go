package config

import "testing"

// The default range must be no one else's: that is why it was chosen.
func TestDefaultRangeIsNoOnesElse(t *testing.T) {
	c := Defaults()
	first, end := uint64(c.StartID), uint64(c.StartID)+uint64(c.IDCount)
	for _, w := range knownWindows() {
		if w.overlaps(first, end) {
			t.Errorf("default range %d-%d overlaps %s %d-%d", first, end-1, w.who, w.first, w.last)
		}
	}
	if end-1 >= 1<<31 {
		t.Errorf("default range ends at %d, at or above 2^31, which some code takes for a negative id", end-1)
	}
}

func TestIDWindowOverlaps(t *testing.T) {
	w := idWindow{first: 100, last: 199}
	for _, tt := range []struct {
		first, end uint64
		want       bool
	}{
		{0, 100, false},   // ends just before
		{0, 101, true},    // ends on the first id
		{199, 300, true},  // starts on the last id
		{200, 300, false}, // starts just after
		{120, 130, true},  // inside
		{0, 1000, true},   // around
	} {
		if got := w.overlaps(tt.first, tt.end); got != tt.want {
			t.Errorf("overlaps(%d, %d) with %d-%d = %v, want %v", tt.first, tt.end, w.first, w.last, got, tt.want)
		}
	}
}
