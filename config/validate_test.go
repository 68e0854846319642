package config

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
		want []string // whole errors, in order; none means valid
	}{
		{name: "defaults", edit: func(c *Config) {}},
		{
			name: "ids-per-build zero",
			edit: func(c *Config) { c.IDsPerBuild = 0 },
			want: []string{"config: ids-per-build = 0: must be greater than 0"},
		},
		{
			name: "start-id zero",
			edit: func(c *Config) { c.StartID = 0 },
			want: []string{"config: start-id = 0: must be greater than 0"},
		},
		{
			name: "start-id not a multiple",
			edit: func(c *Config) { c.StartID = 872415233 },
			want: []string{"config: start-id = 872415233 is not a multiple of ids-per-build (65536)"},
		},
		{
			name: "id-count zero",
			edit: func(c *Config) { c.IDCount = 0 },
			want: []string{"config: id-count = 0: must be greater than 0"},
		},
		{
			name: "id-count not a multiple",
			edit: func(c *Config) { c.IDCount = 65537 },
			want: []string{"config: id-count = 65537 is not a multiple of ids-per-build (65536)"},
		},
		{
			name: "range ends at 2^32",
			edit: func(c *Config) { c.StartID = 0xFFFF0000; c.IDCount = 65536 },
			want: []string{"config: start-id + id-count = 4294967296 (start-id 4294901760, id-count 65536) exceeds 4294967295; lower start-id or id-count"},
		},
		{
			name: "range ends just below the largest id",
			edit: func(c *Config) { c.StartID = 0xFFFE0000; c.IDCount = 65536 },
		},
		{
			name: "range ends at 2^32-1",
			edit: func(c *Config) { c.StartID = 4294967294; c.IDCount = 1; c.IDsPerBuild = 1 },
		},
		{
			name: "range would include 2^32-1",
			edit: func(c *Config) { c.StartID = 4294967294; c.IDCount = 2; c.IDsPerBuild = 1 },
			want: []string{"config: start-id + id-count = 4294967296 (start-id 4294967294, id-count 2) exceeds 4294967295; lower start-id or id-count"},
		},
		{
			name: "sum does not wrap",
			edit: func(c *Config) { c.StartID = 4294967295; c.IDCount = 4294967295; c.IDsPerBuild = 1 },
			want: []string{"config: start-id + id-count = 8589934590 (start-id 4294967295, id-count 4294967295) exceeds 4294967295; lower start-id or id-count"},
		},
		{
			name: "ids-per-build zero skips multiples",
			edit: func(c *Config) { c.IDsPerBuild = 0; c.StartID = 0 },
			want: []string{
				"config: ids-per-build = 0: must be greater than 0",
				"config: start-id = 0: must be greater than 0",
			},
		},
		{
			name: "max-jobs",
			edit: func(c *Config) { c.MaxJobs = 0 },
			want: []string{"config: max-jobs = 0: must be at least 1"},
		},
		{
			name: "paths",
			edit: func(c *Config) { c.StateDir = "var/lib/sdbuild"; c.Socket = "/run/../tmp/s" },
			want: []string{
				`config: state-dir = "var/lib/sdbuild": must be an absolute path`,
				`config: socket = "/run/../tmp/s": must not contain ".."`,
			},
		},
		{
			name: "trailing slash in state-dir is fine",
			edit: func(c *Config) { c.StateDir = "/var/lib/sdbuild/" },
		},
		{
			name: "user lists",
			edit: func(c *Config) {
				c.AllowedUsers = []string{"*", "alice", "@wheel", "nix-builder", "a.b_c$", "", "@", "-x", "a b", "a:b"}
				c.TrustedUsers = []string{"root", "@ad/min"}
			},
			want: []string{
				`config: allowed-users entry "": user name is empty; want a user name, @group or *`,
				`config: allowed-users entry "@": group name is empty; want a user name, @group or *`,
				`config: allowed-users entry "-x": user name starts with "-"; want a user name, @group or *`,
				`config: allowed-users entry "a b": user name contains a space, control character, ":", "," or "/"; want a user name, @group or *`,
				`config: allowed-users entry "a:b": user name contains a space, control character, ":", "," or "/"; want a user name, @group or *`,
				`config: trusted-users entry "@ad/min": group name contains a space, control character, ":", "," or "/"; want a user name, @group or *`,
			},
		},
		{
			name: "empty user lists are valid",
			edit: func(c *Config) { c.AllowedUsers = nil; c.TrustedUsers = []string{} },
		},
		{
			name: "sandbox paths",
			edit: func(c *Config) {
				c.SandboxPaths = []string{
					"/nix/store", "/etc/resolv.conf:/etc/resolv.conf", "/", "/a:/",
					"rel", "/a:rel", "/a/../b", "/a:/b/", "/a:/b:/c", "/a:", "",
				}
			},
			want: []string{
				`config: sandbox-paths entry "rel": host path "rel" is not absolute`,
				`config: sandbox-paths entry "/a:rel": sandbox path "rel" is not absolute`,
				`config: sandbox-paths entry "/a/../b": host path "/a/../b" is not clean (want "/b")`,
				`config: sandbox-paths entry "/a:/b/": sandbox path "/b/" is not clean (want "/b")`,
				`config: sandbox-paths entry "/a:/b:/c": more than one ":"; want HOST[:SANDBOX]`,
				`config: sandbox-paths entry "/a:": sandbox path "" is not absolute`,
				`config: sandbox-paths entry "": host path "" is not absolute`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			tt.edit(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			want := strings.Join(tt.want, "\n")
			if err == nil || err.Error() != want {
				t.Fatalf("Validate() = %v, want %v", err, want)
			}
			if !errors.Is(err, ErrInvalidValue) {
				t.Errorf("Validate() = %v, want ErrInvalidValue", err)
			}
		})
	}
}

func TestSlots(t *testing.T) {
	tests := []struct {
		count, per uint32
		want       int
	}{
		{8388608, 65536, 128},
		{65536, 65536, 1},
		{4294901760, 1, 4294901760},
		{65536, 0, 0},
	}
	for _, tt := range tests {
		c := Config{IDCount: tt.count, IDsPerBuild: tt.per}
		if got := c.Slots(); got != tt.want {
			t.Errorf("Slots() with id-count %d, ids-per-build %d = %d, want %d", tt.count, tt.per, got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	names := keyNames()
	tests := map[string]string{
		"stat-dir":      ` (did you mean "state-dir"?)`,
		"startid":       ` (did you mean "start-id"?)`,
		"allowed_users": ` (did you mean "allowed-users"?)`,
		"sandbox-path":  ` (did you mean "sandbox-paths"?)`,
		"colour":        "",
		"jobs":          "",
	}
	for in, want := range tests {
		if got := suggest(in, names); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
