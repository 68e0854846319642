package doctor

import (
	"reflect"
	"testing"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

func TestCheckCgroup(t *testing.T) {
	for _, tc := range []struct {
		name   string
		host   func() *Host
		check  string
		status Status
		want   []string
	}{
		{"unified root", healthyHost, "cgroup2", OK, []string{"mounted at /sys/fs/cgroup"}},
		{"unified", healthyHost, "cgroup layout", OK, []string{"unified"}},
		{"hybrid seen from a fresh cgroup2 mount", func() *Host {
			h := hybridHost()
			h.Cgroup2Root, h.CgroupFS = "/sys/fs/cgroup", "cgroup2"
			h.Files[fileMountinfo] = "41 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
			return h
		}, "cgroup layout", Warning, []string{"cgroup2 here, but memory, pids, cpu, blkio are bound to cgroup v1", "the host is hybrid"}},
		{"hybrid root", hybridHost, "cgroup2", OK, []string{"mounted at /sys/fs/cgroup/unified"}},
		{"hybrid", hybridHost, "cgroup layout", Warning, []string{"hybrid", "cgroup2 is at /sys/fs/cgroup/unified", "cgroup_no_v1=all"}},
		{"legacy", func() *Host {
			h := hybridHost()
			h.Cgroup2Root, h.Cgroup2Err = "", cgroup2.ErrNoCgroup2
			return h
		}, "cgroup layout", Missing, []string{"legacy"}},
		{"no cgroup2", func() *Host {
			h := hybridHost()
			h.Cgroup2Root, h.Cgroup2Err = "", cgroup2.ErrNoCgroup2
			return h
		}, "cgroup2", Missing, []string{"no cgroup2 hierarchy mounted", "mount -t cgroup2"}},
		{"delegate listed", healthyHost, "cgroup delegation", OK, []string{"cgroup.procs, cgroup.threads, cgroup.subtree_control"}},
		{"delegate file missing", func() *Host {
			h := healthyHost()
			delete(h.Files, fileDelegate)
			return h
		}, "cgroup delegation", Missing, []string{"no /sys/kernel/cgroup/delegate"}},
		{"kill seen", healthyHost, "cgroup.kill", OK, []string{"present in /sys/fs/cgroup/init.scope"}},
		{"kill absent from a cgroup", func() *Host {
			h := healthyHost()
			h.HasKill = false
			return h
		}, "cgroup.kill", Warning, []string{"not in /sys/fs/cgroup/init.scope", "through systemd"}},
		{"kill by kernel version", hybridHost, "cgroup.kill", OK, []string{"6.18.44-fc-v657 ≥ 5.14", "root cgroup has none"}},
		{"old kernel", func() *Host {
			h := hybridHost()
			h.Kernel = "5.10.0-28-amd64"
			return h
		}, "cgroup.kill", Warning, []string{"< 5.14"}},
		{"favordynmods set", func() *Host {
			h := healthyHost()
			h.Files[fileMountinfo] = "30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate,favordynmods\n"
			return h
		}, "favordynmods", OK, []string{"need not wait"}},
		{"favordynmods unset", hybridHost, "favordynmods", Warning,
			[]string{"/sys/fs/cgroup/unified is mounted without favordynmods", "RCU grace period", "mount -o remount,favordynmods /sys/fs/cgroup/unified"}},
		{"favordynmods unknown to kernel", func() *Host {
			h := hybridHost()
			h.Files[fileCgroupFeatures] = "nsdelegate\nmemory_localevents\n"
			return h
		}, "favordynmods", Warning, []string{"not supported by this kernel"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p := wantItem(checkCgroup(tc.host()), tc.check, tc.status, tc.want...); p != "" {
				t.Error(p)
			}
		})
	}
}

func TestKernelAtLeast(t *testing.T) {
	for _, tc := range []struct {
		release   string
		at, known bool
	}{
		{"6.18.44-fc-v657", true, true},
		{"5.14.0", true, true},
		{"5.13.19", false, true},
		{"4.19.0-26-amd64", false, true},
		{"6.1-rc1", true, true},
		{"", false, false},
		{"linux", false, false},
	} {
		at, known := kernelAtLeast(tc.release, 5, 14)
		if at != tc.at || known != tc.known {
			t.Errorf("kernelAtLeast(%q, 5, 14) = %v, %v; want %v, %v", tc.release, at, known, tc.at, tc.known)
		}
	}
}

func TestParseMountinfo(t *testing.T) {
	ms := parseMountinfo(hybridMountinfo + "99 1 0:1 / /mnt/with\\040space rw - tmpfs x rw\nnot a mount line\n")
	if len(ms) != 7 {
		t.Fatalf("parseMountinfo: %d mounts, want 7", len(ms))
	}
	if got := ms[6].point; got != "/mnt/with space" {
		t.Errorf("escaped mount point = %q, want %q", got, "/mnt/with space")
	}
	m, found := cgroup2Mount(ms, "/sys/fs/cgroup/unified")
	if !found || !reflect.DeepEqual(m.super, []string{"rw"}) {
		t.Errorf("cgroup2Mount = %+v, %v; want the unified mount with super options [rw]", m, found)
	}
	for _, tc := range []struct{ ctrl, point string }{
		{"memory", "/sys/fs/cgroup/memory"}, {"blkio", "/sys/fs/cgroup/blkio"}, {"io", ""},
	} {
		if got, _ := v1Mount(ms, tc.ctrl); got != tc.point {
			t.Errorf("v1Mount(%s) = %q, want %q", tc.ctrl, got, tc.point)
		}
	}
	if _, found := cgroup2Mount(parseMountinfo("1 1 0:1 / / rw - ext4 /dev/vda rw\n"), "/sys/fs/cgroup"); found {
		t.Error("cgroup2Mount found a cgroup2 mount where there is none")
	}
}
