package enter

import (
	"testing"
)

func TestProcParsing(t *testing.T) {
	for s, want := range map[string]int{"8682 \n": 8682, "12 13 14 ": 12, "": 0, " \n": 0, "x": 0, "-3": 0} {
		if got, ok := firstChild(s); got != want || ok != (want != 0) {
			t.Errorf("firstChild(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	status := "Name:\tsleep\nPPid:\t8677\nTracerPid:\t0\n"
	if v, ok := statusField(status, "PPid"); !ok || v != "8677" {
		t.Errorf("statusField(PPid) = %q, %v; want 8677", v, ok)
	}
	if v, ok := statusField(status, "Pid"); ok {
		t.Errorf("statusField(Pid) = %q, want none", v)
	}
}
