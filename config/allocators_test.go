package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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

// nixOn is a nix.conf turning auto-allocate-uids on at line 3, with
// start-id and id-count as given ("" leaves them to Nix's defaults).
func nixOn(start, count string) nixRange {
	s := map[string]nixSetting{"auto-allocate-uids": {"true", "/etc/nix/nix.conf", 3}}
	if start != "" {
		s["start-id"] = nixSetting{start, "/etc/nix/nix.conf", 4}
	}
	if count != "" {
		s["id-count"] = nixSetting{count, "/etc/nix/nix.conf", 5}
	}
	r, err := nixRangeOf(s)
	if err != nil {
		panic(err)
	}
	return r
}

// nixOff is a host whose nix.conf leaves auto-allocate-uids off.
var nixOff = nixRange{start: nixDefaultStartID, count: nixDefaultIDCount}

func TestAllocatorErrors(t *testing.T) {
	const oldDefault = 872415232 // sdbuild's default until it was found to be Nix's
	for _, tt := range []struct {
		name         string
		start, count uint32
		h            hostAllocators
		want         []string // whole errors, in order; none means no clash
	}{
		{name: "default, Nix on with its defaults", start: 2013265920, count: 8388608, h: hostAllocators{nix: nixOn("", "")}},
		{
			name: "old default, Nix on with its defaults", start: oldDefault, count: 8388608, h: hostAllocators{nix: nixOn("", "")},
			want: []string{"id range 872415232-880803839 (start-id 872415232, id-count 8388608) overlaps Nix's auto-allocate-uids range 872415232-880803839 " +
				"(/etc/nix/nix.conf line 3: auto-allocate-uids = true; start-id unset, Nix's default 872415232; id-count unset, Nix's default 8388608); " +
				"set start-id to 2013265920, or give Nix a start-id outside sdbuild's range"},
		},
		{
			name: "Nix's last slot is sdbuild's first", start: 0xC0000000, count: 65536 * 2, h: hostAllocators{nix: nixOn("3221159936", "131072")},
			want: []string{"id range 3221225472-3221356543 (start-id 3221225472, id-count 131072) overlaps Nix's auto-allocate-uids range 3221159936-3221291007 " +
				"(/etc/nix/nix.conf line 3: auto-allocate-uids = true; start-id = 3221159936 at /etc/nix/nix.conf line 4; id-count = 131072 at /etc/nix/nix.conf line 5); " +
				"set start-id to 2013265920, or give Nix a start-id outside sdbuild's range"},
		},
		{name: "Nix ends just before", start: 0xC0000000, count: 65536, h: hostAllocators{nix: nixOn("3221159936", "65536")}},
		{name: "old default, Nix on elsewhere", start: oldDefault, count: 8388608, h: hostAllocators{nix: nixOn("3221225472", "")}},
		{
			name: "Nix off, its slots handed out earlier", start: oldDefault + 3*65536, count: 65536,
			h: hostAllocators{nix: nixOff, nixPool: "/nix/var/nix/userpool2", nixSlots: []uint64{0, 1, 3}},
			want: []string{"id range 872611840-872677375 (start-id 872611840, id-count 65536) overlaps ids Nix's auto-allocate-uids has handed out on this host 872415232-872677375 " +
				"(slot-0, slot-1, slot-3 in /nix/var/nix/userpool2, from start-id 872415232); " +
				"set start-id to 2013265920, or remove /nix/var/nix/userpool2 if Nix no longer allocates ids"},
		},
		{name: "Nix off, its slots elsewhere", start: oldDefault + 4*65536, count: 65536,
			h: hostAllocators{nix: nixOff, nixPool: "/p", nixSlots: []uint64{0, 3}}},
		{name: "Nix off, no slots", start: oldDefault, count: 8388608, h: hostAllocators{nix: nixOff}},
		{name: "container range, nsresourced not listening", start: 0x10000000, count: 65536, h: hostAllocators{nix: nixOff}},
		{
			name: "last slot of the container range, nsresourced listening", start: 0x6FFF0000, count: 65536,
			h: hostAllocators{nix: nixOff, nsresourced: "/run/systemd/io.systemd.NamespaceResource"},
			want: []string{"id range 1878982656-1879048191 (start-id 1878982656, id-count 65536) overlaps systemd's container range, " +
				"from which systemd-nsresourced hands out 65536 ids at a time, 524288-1879048191 (it listens on /run/systemd/io.systemd.NamespaceResource); " +
				"set start-id to 2013265920, or stop and disable systemd-nsresourced.socket"},
		},
		{name: "just above the container range, nsresourced listening", start: 0x70000000, count: 65536,
			h: hostAllocators{nix: nixOff, nsresourced: "/run/systemd/io.systemd.NamespaceResource"}},
		{
			name: "foreign range", start: 0x7FF00000, count: 0x100000, h: hostAllocators{nix: nixOff},
			want: []string{"id range 2146435072-2147483647 (start-id 2146435072, id-count 1048576) overlaps systemd's foreign UID range 2147352576-2147418111 (systemd's docs/UIDS-GIDS.md); set start-id to 2013265920"},
		},
		{
			name: "DynamicUser range", start: 61440, count: 4096, h: hostAllocators{nix: nixOff},
			want: []string{"id range 61440-65535 (start-id 61440, id-count 4096) overlaps systemd's DynamicUser= range 61184-65519 (systemd's docs/UIDS-GIDS.md); set start-id to 2013265920"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{StartID: tt.start, IDCount: tt.count, IDsPerBuild: 65536}
			if tt.count < 65536 {
				c.IDsPerBuild = tt.count
			}
			errs := c.allocatorErrors(tt.h)
			var got []string
			for _, err := range errs {
				got = append(got, err.Error())
				if !errors.Is(err, ErrIDOverlap) {
					t.Errorf("allocatorErrors() = %v, want ErrIDOverlap", err)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("allocatorErrors() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestAllocatorWarnings(t *testing.T) {
	for _, tt := range []struct {
		name         string
		start, count uint32
		h            hostAllocators
		want         []string // a part of each warning, in order
	}{
		{name: "default", start: 2013265920, count: 8388608, h: hostAllocators{nix: nixOff}},
		{name: "old default", start: 872415232, count: 8388608, h: hostAllocators{nix: nixOff}, want: []string{
			"the range overlaps systemd's container range (systemd-nspawn --private-users=pick, systemd-nsresourced) 524288-1879048191 (systemd's docs/UIDS-GIDS.md): systemd-nspawn -U picks container ranges from it (as root, sdbuild holds nspawn's lock on each range of a leased slot, so nspawn passes those by, and a slot whose range a container holds waits), and systemd-nsresourced would hand them out if enabled; to be sure, set start-id to 2013265920",
			"overlaps Nix's auto-allocate-uids default range 872415232-880803839 (Nix's start-id and id-count defaults): a Nix daemon given auto-allocate-uids = true would hand these ids to its builds; to be sure, set start-id to 2013265920",
			"overlaps LXD's and Incus's range without /etc/subuid 1000000-1000999999",
		}},
		// Refused, not warned: CheckHostIDs says it.
		{name: "old default, Nix on, nsresourced listening", start: 872415232, count: 8388608,
			h: hostAllocators{nix: nixOn("", ""), nsresourced: "/s"}, want: []string{"overlaps LXD's"}},
		{name: "Nix would use its nix.conf start-id", start: 0xC0000000, count: 65536,
			h: hostAllocators{nix: nixRange{start: 0xC0000000, count: 65536, startAt: &nixSetting{}}}, want: []string{
				"overlaps the range Nix's auto-allocate-uids would use 3221225472-3221291007 (start-id and id-count in nix.conf)",
				`overlaps podman --userns=auto's example "containers" grant 2147483647-4294967294`,
			}},
		{name: "useradd's subordinate ids", start: 0x100000, count: 65536, h: hostAllocators{nix: nixOff}, want: []string{
			"overlaps systemd's container range",
			"overlaps shadow's useradd range for new users' subordinate ids 100000-600100000 (SUB_UID_MIN and SUB_UID_MAX unless /etc/login.defs sets them): the grants made are in /etc/subuid",
			"overlaps LXD's",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{StartID: tt.start, IDCount: tt.count, IDsPerBuild: 65536}
			got := c.allocatorWarnings(tt.h)
			if len(got) != len(tt.want) {
				t.Fatalf("allocatorWarnings() = %q, want %d warnings like %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("allocatorWarnings()[%d] = %q, want it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSuggestStart(t *testing.T) {
	nix := idWindow{first: 872415232, last: 880803839}
	atDefault := idWindow{first: 2013265920, last: 2013331455} // another allocator set to sdbuild's default
	for _, tt := range []struct {
		c    Config
		w    idWindow
		want string
	}{
		{Config{IDCount: 8388608, IDsPerBuild: 65536}, nix, "set start-id to 2013265920"},
		// The default is taken: the next slot after the clash.
		{Config{IDCount: 8388608, IDsPerBuild: 65536}, atDefault, "set start-id to 2013331456"},
		{Config{IDCount: 8388608, IDsPerBuild: 8388608}, atDefault, "set start-id to 2021654528"},
		// No place clear of every allocator holds 2^30 ids.
		{Config{IDCount: 1 << 30, IDsPerBuild: 65536}, nix, "choose a start-id outside 872415232-880803839"},
	} {
		if got := tt.c.suggestStart(tt.w); got != tt.want {
			t.Errorf("suggestStart(%d-%d) with id-count %d, ids-per-build %d = %q, want %q",
				tt.w.first, tt.w.last, tt.c.IDCount, tt.c.IDsPerBuild, got, tt.want)
		}
	}
}

// TestCheckHostIDsAllocators checks that CheckHostIDsAt and
// ReviewHostIDsAt read Nix's and systemd's files where the sources say.
func TestCheckHostIDsAllocators(t *testing.T) {
	const old = "start-id 872415232" // sdbuild's default until it was found to be Nix's
	for _, tt := range []struct {
		name      string
		nixConf   map[string]string // file name in the nix directory → content
		slots     []string          // files in userpool2
		socket    bool              // nsresourced's socket exists
		rootless  bool
		wantErr   []string
		wantWarns int
	}{
		{name: "no Nix, no nsresourced", wantWarns: 3},
		{
			name:    "nix.conf turns it on through an include",
			nixConf: map[string]string{"nix.conf": "include machine.conf\n", "machine.conf": "\nauto-allocate-uids = true\n"},
			wantErr: []string{old + ", id-count 8388608) overlaps Nix's auto-allocate-uids range 872415232-880803839 (",
				"machine.conf line 2: auto-allocate-uids = true; start-id unset"},
			wantWarns: 2,
		},
		{
			name:  "userpool2 shows slots",
			slots: []string{"slot-5"}, wantWarns: 3,
			wantErr: []string{old + ", id-count 8388608) overlaps ids Nix's auto-allocate-uids has handed out on this host 872742912-872808447 (slot-5 in "},
		},
		{
			name:    "nsresourced listens",
			socket:  true,
			wantErr: []string{old + ", id-count 8388608) overlaps systemd's container range, from which systemd-nsresourced hands out"}, wantWarns: 2,
		},
		{
			name:    "a user's own daemon is not checked against them",
			nixConf: map[string]string{"nix.conf": "auto-allocate-uids = true\n"}, slots: []string{"slot-0"}, socket: true,
			rootless: true,
		},
		{
			name:    "a bad value in nix.conf is an error",
			nixConf: map[string]string{"nix.conf": "auto-allocate-uids = sure\n"},
			wantErr: []string{`nix.conf line 1: auto-allocate-uids "sure" is not a boolean`},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := hostIDFiles(t, "root:x:0:0:root:/root:/bin/sh\n", "root:x:0:\n", "", "")
			nixDir := filepath.Dir(src.NixConf)
			for name, content := range tt.nixConf {
				if err := os.WriteFile(filepath.Join(nixDir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if len(tt.slots) > 0 {
				if err := os.Mkdir(src.NixUserPool, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, name := range tt.slots {
				if err := os.WriteFile(filepath.Join(src.NixUserPool, name), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tt.socket {
				if err := os.WriteFile(src.NSResourceSocket, nil, 0o666); err != nil {
					t.Fatal(err)
				}
			}
			c := Config{StartID: 872415232, IDCount: 8388608, IDsPerBuild: 65536}
			if tt.rootless {
				c.Rootless = &Rootless{Account: Account{Name: "alice", UID: 1000},
					SubUID: SubIDRange{Start: 872415232, Count: 8388608}, SubGID: SubIDRange{Start: 872415232, Count: 8388608}}
			}
			err := c.CheckHostIDsAt(src)
			if len(tt.wantErr) == 0 && err != nil {
				t.Errorf("CheckHostIDsAt() = %v, want nil", err)
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("CheckHostIDsAt() = %v, want it to contain %q", err, w)
				}
			}
			r := c.ReviewHostIDsAt(src)
			if fmt.Sprint(r.Err) != fmt.Sprint(err) || len(r.Warnings) != tt.wantWarns {
				t.Errorf("ReviewHostIDsAt() = %v and %d warnings %q; want CheckHostIDsAt's error and %d", r.Err, len(r.Warnings), r.Warnings, tt.wantWarns)
			}
		})
	}
}
