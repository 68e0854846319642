package idmap

import (
	"strings"
	"testing"
)

func TestParseAndUncovered(t *testing.T) {
	tests := []struct {
		name, uidMap string
		start, count uint64
		want         uint64
		wantMissing  bool
	}{
		{"initial namespace", "0 0 4294967295\n", 872415232, 8388608, 0, false},
		{"rootless container", "0 1000 1\n1 100000 65536\n", 872415232, 65536, 872415232, true},
		{"inside the map", "0 1000 1\n1 100000 65536\n", 1, 65536, 0, false},
		{"one past the map", "0 1000 1\n1 100000 65536\n", 1, 65537, 65537, true},
		{"two adjacent ranges", "0 0 1000\n1000 5000 1000\n", 500, 1000, 0, false},
		{"a hole", "0 0 1000\n2000 5000 1000\n", 500, 2000, 1000, true},
		{"nothing mapped", "", 1, 1, 1, true},
	}
	for _, tt := range tests {
		rs, err := Parse(strings.NewReader(tt.uidMap))
		if err != nil {
			t.Fatalf("%s: Parse: %v", tt.name, err)
		}
		got, missing := Uncovered(rs, tt.start, tt.count)
		if missing != tt.wantMissing || got != tt.want {
			t.Errorf("%s: Uncovered(%d+%d) = %d, %v; want %d, %v", tt.name, tt.start, tt.count, got, missing, tt.want, tt.wantMissing)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"0 0\n", "a b c\n", "0 0 1 2\n"} {
		if _, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("Parse(%q): want an error", in)
		}
	}
}

func TestString(t *testing.T) {
	rs := []Range{{0, 1000, 1}, {1, 100000, 65536}}
	if got, want := String(rs), "0-0, 1-65536"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

// This process (the test, as root on the host) maps every id.
func TestCheckSelfOnThisHost(t *testing.T) {
	b := readSelf(t)
	if !strings.Contains(b, "4294967295") {
		t.Skipf("this test runs in a user namespace (%q): nothing known to check", b)
	}
	if err := CheckSelf(872415232, 872415232, 8388608); err != nil {
		t.Errorf("CheckSelf in the initial user namespace: %v", err)
	}
}
