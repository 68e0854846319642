package doctor

import (
	"errors"
	"testing"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

func TestCheckControllers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		host   func() *Host
		check  string
		status Status
		want   []string
	}{
		{"unified: memory enforced", healthyHost, "memory controller", OK, []string{"MemoryMax= can be enforced"}},
		{"unified: io enforced", healthyHost, "io controller", OK, []string{"IOWeight="}},
		{"hybrid: empty controllers, memory on v1", hybridHost, "memory controller", Missing,
			[]string{"MemoryMax= cannot be enforced", "bound to cgroup v1 (mounted at /sys/fs/cgroup/memory)"}},
		{"hybrid: pids on v1", hybridHost, "pids controller", Missing, []string{"TasksMax=", "cgroup v1 (mounted at /sys/fs/cgroup/pids)"}},
		{"hybrid: cpu on v1", hybridHost, "cpu controller", Missing, []string{"CPUWeight=/CPUQuota=", "/sys/fs/cgroup/cpu)"}},
		{"hybrid: io is blkio on v1", hybridHost, "io controller", Missing, []string{"IOWeight=", "/sys/fs/cgroup/blkio)"}},
		{"v1 bound, mounts hidden (testbed)", func() *Host {
			h := hybridHost()
			h.Files[fileMountinfo] = "41 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
			return h
		}, "memory controller", Missing, []string{"bound to cgroup v1 (hierarchy 4 in /proc/cgroups)"}},
		{"disabled on the command line", func() *Host {
			h := hybridHost()
			h.Files[fileProcCgroups] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t0\t1\t0\n"
			return h
		}, "memory controller", Missing, []string{"cgroup_disable=memory"}},
		{"not in kernel", func() *Host {
			h := hybridHost()
			h.Files[fileProcCgroups] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t0\t1\t1\n"
			return h
		}, "pids controller", Missing, []string{"no pids controller"}},
		{"free but not delegated to this root", func() *Host {
			h := hybridHost()
			h.Files[fileProcCgroups] = unifiedProcCgroups
			return h
		}, "memory controller", Missing, []string{"not in /sys/fs/cgroup/unified/cgroup.controllers", "cgroup.subtree_control"}},
		{"controllers unreadable", func() *Host {
			h := hybridHost()
			delete(h.Files, controllersFile(h.Cgroup2Root))
			h.FileErrs = map[string]error{controllersFile(h.Cgroup2Root): errors.New("permission denied")}
			return h
		}, "memory controller", Missing, []string{"cannot read /sys/fs/cgroup/unified/cgroup.controllers"}},
		{"no cgroup2", func() *Host {
			h := healthyHost()
			h.Cgroup2Root, h.Cgroup2Err = "", cgroup2.ErrNoCgroup2
			return h
		}, "memory controller", Missing, []string{"no cgroup2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items := checkControllers(tc.host())
			if len(items) != len(limitControllers) {
				t.Fatalf("checkControllers gave %d items, want %d", len(items), len(limitControllers))
			}
			if p := wantItem(items, tc.check, tc.status, tc.want...); p != "" {
				t.Error(p)
			}
		})
	}
}

func TestParseProcCgroups(t *testing.T) {
	got := parseProcCgroups(hybridProcCgroups + "garbage line\nbroken x 1 1\n")
	for name, want := range map[string]procCgroup{
		"memory":  {hierarchy: 4, enabled: true},
		"blkio":   {hierarchy: 7, enabled: true},
		"hugetlb": {hierarchy: 0, enabled: true},
	} {
		if got[name] != want {
			t.Errorf("parseProcCgroups: %s = %+v, want %+v", name, got[name], want)
		}
	}
	if _, found := got["broken"]; found || len(got) != 7 {
		t.Errorf("parseProcCgroups kept %d entries (%v), want the 7 well-formed ones", len(got), got)
	}
}
