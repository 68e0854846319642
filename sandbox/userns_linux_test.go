package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUserNSSetting(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"nothing forbids", map[string]string{"user/max_user_namespaces": "15000\n", "kernel/unprivileged_userns_clone": "1\n"}, ""},
		{"no knobs at all", nil, ""},
		{"debian knob", map[string]string{"kernel/unprivileged_userns_clone": "0\n", "user/max_user_namespaces": "15000\n"}, "kernel.unprivileged_userns_clone = 0"},
		{"no user namespaces", map[string]string{"user/max_user_namespaces": "0\n"}, "user.max_user_namespaces = 0"},
		{"apparmor", map[string]string{"kernel/apparmor_restrict_unprivileged_userns": "1\n"}, "kernel.apparmor_restrict_unprivileged_userns = 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, v := range tc.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, fix := UserNSSetting(dir)
			if got != tc.want {
				t.Errorf("UserNSSetting = %q, want %q", got, tc.want)
			}
			if (got == "") != (fix == "") {
				t.Errorf("setting %q with fix %q: want both or neither", got, fix)
			}
		})
	}
}

func TestInitMaps(t *testing.T) {
	for _, tc := range []struct {
		name       string
		u          UserNS
		uids, gids []idMap
	}{
		{"own id only", UserNS{UID: 1000, GID: 100}, []idMap{{0, 1000, 1}}, []idMap{{0, 100, 1}}},
		{"subordinate ids", UserNS{UID: 1000, GID: 100, Sub: true},
			[]idMap{{0, 1000, 1}, {1, 200000, 65536}}, []idMap{{0, 100, 1}, {1, 300000, 65536}}},
		// The slot (200000, gids 300000) is the pool's second.
		{"pool", UserNS{UID: 1000, GID: 100, Sub: true, Pool: IDPool{UID: 134464, GID: 234464, Count: 3 * 65536}},
			[]idMap{{0, 1000, 1}, {1, 134464, 3 * 65536}}, []idMap{{0, 100, 1}, {1, 234464, 3 * 65536}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Spec{HostID: 200000, HostGID: 300000, IDCount: 65536, UserNS: &tc.u, Features: Features{UIDRange: tc.u.Sub}}
			uids, gids := s.initMaps()
			if !equalMaps(uids, tc.uids) || !equalMaps(gids, tc.gids) {
				t.Errorf("initMaps = %v %v, want %v %v", uids, gids, tc.uids, tc.gids)
			}
			bu, bg := s.idMaps()
			// The builder's ids are init's: never init's root (the caller)
			// when there are subordinate ids.
			if tc.u.Sub && (bu.Outside == 0 || bg.Outside == 0) {
				t.Errorf("builder maps %v %v reach the caller's own id", bu, bg)
			}
			if !tc.u.Sub && (bu.Outside != 0 || bu.Count != 1) {
				t.Errorf("builder maps %v: want the caller's single id", bu)
			}
			// The builder's ids, through init's maps, are the slot's:
			// host uid 200000 and gid 300000 on, and no more.
			if tc.u.Sub {
				hu, hg := throughMaps(t, bu, uids), throughMaps(t, bg, gids)
				if hu != [2]uint32{200000, 65536} || hg != [2]uint32{300000, 65536} {
					t.Errorf("builder's host uids %v, gids %v: want the slot's, 200000+65536 and 300000+65536", hu, hg)
				}
			}
		})
	}
}

// throughMaps is the host range (first, count) of the builder's map m,
// whose Outside ids are init's, through init's maps.
func throughMaps(t *testing.T, m idMap, init []idMap) [2]uint32 {
	t.Helper()
	for _, l := range init {
		if m.Outside >= l.Inside && uint64(m.Outside)+uint64(m.Count) <= uint64(l.Inside)+uint64(l.Count) {
			return [2]uint32{l.Outside + m.Outside - l.Inside, m.Count}
		}
	}
	t.Fatalf("builder map %v is not within init's maps %v", m, init)
	return [2]uint32{}
}

// TestPoolHoldsSlot: a slot outside init's pool of subordinate ids is
// refused, at either end and for gids too.
func TestPoolHoldsSlot(t *testing.T) {
	u := &UserNS{UID: 1000, GID: 100, Sub: true, Pool: IDPool{UID: 200000, GID: 300000, Count: 2 * 65536}}
	for _, tc := range []struct {
		host, hostGID uint32
		ok            bool
	}{
		{200000, 300000, true},
		{265536, 365536, true},
		{199999, 300000, false},
		{265537, 365537, false},
		{200000, 299999, false},
		{200000, 365536, false}, // the first slot's uids with the second's gids
		{331072, 431072, false},
	} {
		s := &Spec{BuildID: "x", Dir: "/x", Args: []string{"true"}, HostID: tc.host, HostGID: tc.hostGID, IDCount: 65536, UserNS: u}
		err := s.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("slot %d (gids %d): Validate = %v, want ok %v", tc.host, tc.hostGID, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "pool of subordinate ids") {
			t.Errorf("slot %d: %v: want the error to name the pool", tc.host, err)
		}
	}
}

func equalMaps(a, b []idMap) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
