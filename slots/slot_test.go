package slots

import (
	"errors"
	"testing"
	"time"
)

func TestSlotRange(t *testing.T) {
	tests := []struct {
		start, per   uint32
		slot         int
		first, count uint32
	}{
		{872415232, 65536, 0, 872415232, 65536},
		{872415232, 65536, 1, 872480768, 65536},
		{872415232, 65536, 127, 872415232 + 127*65536, 65536},
		{65536, 1, 5, 65541, 1},
		{testStartID, 65536, 3, testStartID + 3*65536, 65536},
		// The last slot of the widest valid pool ends at 0xfffffffe.
		{0xffff0000, 0xffff, 0, 0xffff0000, 0xffff},
	}
	for _, tt := range tests {
		first, count := SlotRange(tt.start, tt.per, tt.slot)
		if first != tt.first || count != tt.count {
			t.Errorf("SlotRange(%d, %d, %d) = %d, %d, want %d, %d", tt.start, tt.per, tt.slot, first, count, tt.first, tt.count)
		}
	}
}

func TestIDRangeContains(t *testing.T) {
	r := idRange{first: 1000000, count: 10}
	tests := []struct {
		id   uint32
		want bool
	}{
		{0, false},
		{999999, false},
		{1000000, true},
		{1000009, true},
		{1000010, false},
		{0xffffffff, false},
	}
	for _, tt := range tests {
		if got := r.contains(tt.id); got != tt.want {
			t.Errorf("idRange%v.contains(%d) = %v, want %v", r, tt.id, got, tt.want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	ok := Options{Dir: "/d", StartID: 872415232, IDsPerBuild: 65536, Slots: 128}
	tests := []struct {
		name string
		edit func(*Options)
		ok   bool
	}{
		{"valid", func(*Options) {}, true},
		{"empty dir", func(o *Options) { o.Dir = "" }, false},
		{"no slots", func(o *Options) { o.Slots = 0 }, false},
		{"negative slots", func(o *Options) { o.Slots = -1 }, false},
		{"no ids", func(o *Options) { o.IDsPerBuild = 0 }, false},
		{"range includes root", func(o *Options) { o.StartID = 0 }, false},
		{"range includes host users", func(o *Options) { o.StartID = 65535 }, false},
		{"lowest start", func(o *Options) { o.StartID = 65536 }, true},
		{"ends at 0xfffffffe", func(o *Options) { o.StartID, o.IDsPerBuild, o.Slots = 0xffff0000, 0xffff, 1 }, true},
		{"reaches (uid_t)-1", func(o *Options) { o.StartID, o.IDsPerBuild, o.Slots = 0xffff0000, 0x10000, 1 }, false},
		{"wraps 32 bits", func(o *Options) { o.Slots = 1 << 20 }, false},
		{"slot count past id space", func(o *Options) { o.IDsPerBuild, o.Slots = 1, 1<<33 }, false},
		{"negative timeout", func(o *Options) { o.KillTimeout = -time.Second }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			err := o.validate()
			if (err == nil) != tt.ok {
				t.Fatalf("validate(%+v) = %v, want ok=%v", o, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadOptions) {
				t.Errorf("validate error %v does not wrap ErrBadOptions", err)
			}
			if err == nil && o.KillTimeout != defaultKillTimeout {
				t.Errorf("KillTimeout after validate = %v, want default %v", o.KillTimeout, defaultKillTimeout)
			}
		})
	}
}
