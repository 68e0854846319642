package sandbox

import (
	"os"
	"path/filepath"
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
		})
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
