package enter

import (
	"testing"
)

func TestEntryID(t *testing.T) {
	tests := []struct {
		idMap           string
		inside, outside uint32
		wantErr         bool
	}{
		{"      1000  872415232          1\n", 1000, 872415232, false}, // a single-id build's uid_map
		{"       100  872415232          1\n", 100, 872415232, false},  // its gid_map
		{"         0  872415232      65536\n", 0, 872415232, false},    // uid-range
		{"1000 5 1\n0 7 1\n", 0, 7, false},                             // root wins wherever it is
		{"", 0, 0, true},
		{"1000 5\n", 0, 0, true},
		{"1000 5 0\n", 0, 0, true},
		{"x 5 1\n", 0, 0, true},
		{"1000 4294967296 1\n", 0, 0, true},
	}
	for _, tt := range tests {
		in, out, err := entryID(tt.idMap)
		if in != tt.inside || out != tt.outside || (err != nil) != tt.wantErr {
			t.Errorf("entryID(%q) = %d, %d, %v; want %d, %d, error %v", tt.idMap, in, out, err, tt.inside, tt.outside, tt.wantErr)
		}
	}
}
