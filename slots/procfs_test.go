package slots

import (
	"reflect"
	"testing"
)

const statusSample = `Name:	sleep
Umask:	0022
State:	S (sleeping)
Tgid:	4711
Pid:	4711
PPid:	1
Uid:	3758096391	3758096392	3758096393	3758096394
Gid:	10	11	12	13
FDSize:	64
Groups:	3758096395 27 
NStgid:	4711
Threads:	3
SigQ:	0/63494
`

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want procIDs
		bad  bool
	}{
		{"sample", statusSample, procIDs{
			uid:    [4]uint32{3758096391, 3758096392, 3758096393, 3758096394},
			gid:    [4]uint32{10, 11, 12, 13},
			groups: []uint32{3758096395, 27}, threads: 3}, false},
		{"max ids, no groups or threads line", "Uid:\t4294967295\t0\t0\t0\nGid:\t0\t0\t0\t4294967294\n", procIDs{
			uid: [4]uint32{4294967295, 0, 0, 0}, gid: [4]uint32{0, 0, 0, 4294967294}, threads: 1}, false},
		{"empty groups", "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\nThreads:\t1\n", procIDs{threads: 1}, false},
		{"bad group", "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t1 x\n", procIDs{}, true},
		{"bad threads", "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\tmany\n", procIDs{}, true},
		{"no gid", "Uid:\t0\t0\t0\t0\n", procIDs{}, true},
		{"three ids", "Uid:\t0\t0\t0\nGid:\t0\t0\t0\t0\n", procIDs{}, true},
		{"not a number", "Uid:\tx\t0\t0\t0\nGid:\t0\t0\t0\t0\n", procIDs{}, true},
		{"past 32 bits", "Uid:\t4294967296\t0\t0\t0\nGid:\t0\t0\t0\t0\n", procIDs{}, true},
		{"empty", "", procIDs{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatus([]byte(tt.in))
			if (err != nil) != tt.bad || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseStatus(%q) = %+v, %v; want %+v, bad=%v", tt.in, got, err, tt.want, tt.bad)
			}
		})
	}
}

func TestProcIDsInRange(t *testing.T) {
	r := slotIDs{uids: idRange{first: testStartID, count: 65536}, gids: idRange{first: testStartID, count: 65536}}
	in, out := uint32(testStartID+5), uint32(testStartID+65536)
	tests := []struct {
		name string
		ids  procIDs
		want bool
	}{
		{"none", procIDs{}, false},
		{"just past", procIDs{uid: [4]uint32{out, out, out, out}, gid: [4]uint32{out, out, out, out}}, false},
		{"real uid", procIDs{uid: [4]uint32{in, 0, 0, 0}}, true},
		{"effective uid", procIDs{uid: [4]uint32{0, in, 0, 0}}, true},
		{"saved uid", procIDs{uid: [4]uint32{0, 0, in, 0}}, true},
		{"fs uid", procIDs{uid: [4]uint32{0, 0, 0, in}}, true},
		{"real gid", procIDs{gid: [4]uint32{in, 0, 0, 0}}, true},
		{"fs gid", procIDs{gid: [4]uint32{0, 0, 0, in}}, true},
		{"supplementary group", procIDs{groups: []uint32{0, in}}, true},
		{"supplementary group just past", procIDs{groups: []uint32{out}}, false},
	}
	for _, tt := range tests {
		if got := tt.ids.inRange(r); got != tt.want {
			t.Errorf("%s: %+v.inRange(%v) = %v, want %v", tt.name, tt.ids, r, got, tt.want)
		}
	}
	// Gids from a grant of their own: each kind is checked against its
	// own range, never the other's.
	split := slotIDs{uids: idRange{first: 100000, count: 65536}, gids: idRange{first: 300000, count: 65536}}
	for _, tt := range []struct {
		name string
		ids  procIDs
		want bool
	}{
		{"a uid of the slot", procIDs{uid: [4]uint32{100005, 0, 0, 0}}, true},
		{"a gid of the slot", procIDs{gid: [4]uint32{0, 0, 300005, 0}}, true},
		{"a gid in the slot's uid numbers", procIDs{gid: [4]uint32{100005, 100005, 100005, 100005}}, false},
		{"a uid in the slot's gid numbers", procIDs{uid: [4]uint32{300005, 300005, 300005, 300005}}, false},
		{"a group of the slot", procIDs{groups: []uint32{300005}}, true},
		{"a group in the slot's uid numbers", procIDs{groups: []uint32{100005}}, false},
	} {
		if got := tt.ids.inRange(split); got != tt.want {
			t.Errorf("%s: inRange(%v) = %v, want %v", tt.name, split, got, tt.want)
		}
	}
}

func TestParseStat(t *testing.T) {
	tail := " 1 4711 4711 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654321 8192000 200"
	tests := []struct {
		name      string
		in        string
		wantState byte
		wantStart uint64
		bad       bool
	}{
		{"plain", "4711 (sleep) S" + tail, 'S', 987654321, false},
		{"comm with space and paren", "4711 (a) b (c) Z" + tail, 'Z', 987654321, false},
		{"comm with digits", "4711 (1 2 3) D" + tail, 'D', 987654321, false},
		{"short", "4711 (sleep) S 1 2 3", 0, 0, true},
		{"no comm", "4711 sleep S" + tail, 0, 0, true},
		{"bad start", "4711 (sleep) S 1 4711 4711 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 x 8192000 200", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state, start, err := parseStat([]byte(tt.in))
			if (err != nil) != tt.bad || state != tt.wantState || start != tt.wantStart {
				t.Fatalf("parseStat(%q) = %q, %d, %v; want %q, %d, bad=%v", tt.in, state, start, err, tt.wantState, tt.wantStart, tt.bad)
			}
		})
	}
}
