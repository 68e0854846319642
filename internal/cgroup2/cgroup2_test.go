package cgroup2

import (
	"os"
	"strings"
	"testing"
)

func TestParseMount(t *testing.T) {
	hybrid := `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
	tests := []struct {
		name   string
		in     string
		want   string
		wantOK bool
	}{
		{"hybrid", hybrid, "/sys/fs/cgroup/unified", true},
		{"unified with optional fields", "30 24 0:26 / /sys/fs/cgroup rw,nosuid shared:4 master:1 - cgroup2 cgroup2 rw,nsdelegate\n", "/sys/fs/cgroup", true},
		{"escaped space", `41 31 0:38 / /mnt/cg\0402 rw - cgroup2 none rw` + "\n", "/mnt/cg 2", true},
		{"subtree bind skipped", "50 31 0:38 /sdbuild.slice /mnt/x rw - cgroup2 cgroup2 rw\n41 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "/sys/fs/cgroup", true},
		{"v1 only", "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := ParseMount(strings.NewReader(tt.in))
			if err != nil || got != tt.want || ok != tt.wantOK {
				t.Fatalf("ParseMount = %q, %v, %v; want %q, %v", got, ok, err, tt.want, tt.wantOK)
			}
		})
	}
}

// Root finds this host's real cgroup2 hierarchy.
func TestRootOnThisHost(t *testing.T) {
	r, err := Root()
	if err != nil {
		t.Skipf("no cgroup2 hierarchy on this host: %v", err)
	}
	if _, err := os.Stat(r + "/cgroup.procs"); err != nil {
		t.Errorf("Root() = %q, which has no cgroup.procs: %v", r, err)
	}
}
