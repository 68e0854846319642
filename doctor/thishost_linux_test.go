//go:build linux && !integration

// This file's test describes the host as seen from outside any testbed;
// inside the throwaway systemd (-tags integration) cgroup2 is remounted at
// /sys/fs/cgroup and systemd is PID 1, so it does not run there.

package doctor

import (
	"context"
	"testing"

	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/internal/testutil"
	"github.com/sdbuild/sdbuild/sandbox"
)

// TestThisHost runs the real checks on the development VM (and CI machines
// of its kind, see README): kernel 6.18, cgroup v1 hybrid with cgroup2 at
// /sys/fs/cgroup/unified carrying no controllers, systemd not PID 1. It
// asserts what is known true there.
func TestThisHost(t *testing.T) {
	testutil.RequireRoot(t, "probes what the root daemon sees")
	cfg := config.Defaults()
	h := Gather(context.Background(), Options{Config: &cfg})
	r := Diagnose(h)
	if h.Cgroup2Root != "/sys/fs/cgroup/unified" {
		t.Errorf("cgroup2 root = %q, want /sys/fs/cgroup/unified", h.Cgroup2Root)
	}
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
