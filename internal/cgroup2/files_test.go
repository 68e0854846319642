package cgroup2

import "testing"

func TestParsePopulated(t *testing.T) {
	tests := []struct {
		in   string
		want bool
		bad  bool
	}{
		{"populated 0\nfrozen 0\n", false, false},
		{"populated 1\nfrozen 0\n", true, false},
		{"frozen 0\npopulated 1\n", true, false},
		{"frozen 0\n", false, true},
		{"populated x\n", false, true},
	}
	for _, tt := range tests {
		got, err := ParsePopulated([]byte(tt.in))
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParsePopulated(%q) = %v, %v; want %v, bad=%v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestParseProcs(t *testing.T) {
	got := ParseProcs([]byte("12\n7\n\n0\nx\n"))
	if len(got) != 2 || got[0] != 12 || got[1] != 7 {
		t.Errorf("ParseProcs = %v, want [12 7]", got)
	}
}

func TestParseCPUStat(t *testing.T) {
	if got := parseCPUStat([]byte("usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n")); got != 1234 {
		t.Errorf("parseCPUStat = %d, want 1234", got)
	}
	if got := parseCPUStat([]byte("user_usec 1\n")); got != 0 {
		t.Errorf("parseCPUStat without usage_usec = %d, want 0", got)
	}
}
