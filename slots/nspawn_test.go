package slots

import (
	"slices"
	"testing"
)

func TestNspawnBases(t *testing.T) {
	tests := []struct {
		name         string
		first, count uint32
		want         []uint32
	}{
		{"sdbuild's default slot 0, above the pick range", 2013265920, 65536, nil},
		{"a configured slot inside it (Nix's first id)", 872415232, 65536, []uint32{872415232}},
		{"aligned, two ranges", 0x00100000, 0x20000, []uint32{0x00100000, 0x00110000}},
		{"subordinate ids from 100000, below the pick range", 100000, 65536, nil},
		{"unaligned inside the pick range", 0x00080000 + 100, 65536, []uint32{0x00080000, 0x00090000}},
		{"half a range", 0x00098000, 32768, []uint32{0x00090000}},
		{"below the pick range", 65536, 65536 * 7, nil},
		{"ends where the pick range starts", 0x00070000, 0x10000, nil},
		{"starts below, ends inside", 0x00070000, 0x20000, []uint32{0x00080000}},
		{"the last pickable base", 0x6FFF0000, 0x10000, []uint32{0x6FFF0000}},
		{"above the pick range", 0x70000000, 0x10000, nil},
		{"sdbuild's test ranges", 0xE0000000, 65536, nil},
		{"the top of the id space", 0xFFFF0000, 0xFFFF, nil},
	}
	for _, tt := range tests {
		if got := nspawnBases(tt.first, tt.count); !slices.Equal(got, tt.want) {
			t.Errorf("%s: nspawnBases(%#x, %#x) = %#x, want %#x", tt.name, tt.first, tt.count, got, tt.want)
		}
	}
	split := slotIDs{uids: idRange{0x00100000, 65536}, gids: idRange{0x00080000, 0x20000}}
	if got, want := slotNspawnBases(split), []uint32{0x00080000, 0x00090000, 0x00100000}; !slices.Equal(got, want) {
		t.Errorf("slotNspawnBases(%v) = %#x, want %#x", split, got, want)
	}
}
