//go:build linux && !integration

// This file's test describes the host as seen from outside any testbed;
// inside the throwaway systemd (-tags integration) cgroup2 is remounted at
// /sys/fs/cgroup and systemd is PID 1, so it does not run there.

package doctor

import (
	"context"
	"testing"

	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/internal/cgroup2"
	"github.com/sdbuild/sdbuild/internal/testutil"
	"github.com/sdbuild/sdbuild/sandbox"
)

// TestThisHost runs the real checks on a host of the development VM's kind
// (and CI's, see README): cgroup v1 hybrid with cgroup2 at
// /sys/fs/cgroup/unified carrying no controllers, systemd not PID 1. It
// asserts what is known true there, and skips on any other kind of host,
// where those facts do not hold.
func TestThisHost(t *testing.T) {
	testutil.RequireRoot(t, "probes what the root daemon sees")
	if root, err := cgroup2.Root(); err != nil || root != "/sys/fs/cgroup/unified" {
		t.Skipf("describes a hybrid cgroup host with systemd not PID 1; cgroup2 here is %q (%v)", root, err)
	}
	cfg := config.Defaults()
	h := Gather(context.Background(), Options{Config: &cfg})
	r := Diagnose(h)
	for _, w := range []struct {
		check  string
		status Status
		want   []string
	}{
		{"privilege", OK, nil},
		{"cgroup2", OK, []string{"/sys/fs/cgroup/unified"}},
		{"cgroup layout", Warning, []string{"hybrid"}},
		{"cgroup delegation", OK, []string{"cgroup.procs"}},
		{"cgroup.kill", OK, nil},
		{"memory controller", Missing, []string{"MemoryMax= cannot be enforced", "cgroup v1", "/sys/fs/cgroup/memory"}},
		{"pids controller", Missing, []string{"cgroup v1"}},
		{"id range", OK, nil},
		{"id mapping", OK, nil},
		{"id allocators", OK, nil}, // the default range is no one else's
		{"systemd D-Bus", Missing, []string{"sdbuildd cannot start build scopes"}},
		{"systemd PID 1", Missing, nil},
	} {
		if p := wantItem(r.Checks, w.check, w.status, w.want...); p != "" {
			t.Error(p)
		}
	}
	for _, ns := range sandbox.Namespaces {
		if p := wantItem(r.Checks, namespaceCheck(ns.Name), OK, "created one"); p != "" {
			t.Error(p)
		}
	}
	for _, f := range []string{"uid-range", "network", "tun"} {
		if p := wantItem(r.Features, f, OK); p != "" {
			t.Error(p)
		}
	}
	if !r.OK {
		t.Errorf("report not OK; blocking: %v", r.Blocking())
	}
}
