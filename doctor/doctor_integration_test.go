//go:build integration && linux

// Run inside the throwaway systemd:
//
//	go run ./cmd/sdbuild-testbed run -- go test -tags integration ./doctor/

package doctor

import (
	"context"
	"testing"

	"github.com/sdbuild/sdbuild/config"
)

// TestSystemdReachable runs the real checks where systemd runs. It fails,
// never skips, when systemd does not answer: that is the finding under
// test, and outside the testbed it is a test run in the wrong place.
func TestSystemdReachable(t *testing.T) {
	cfg := config.Defaults()
	r := Run(context.Background(), Options{Config: &cfg})
	for _, w := range []struct {
		items []Item
		name  string
	}{
		{r.Checks, "systemd D-Bus"},
		{r.Checks, "systemd PID 1"},
		{r.Checks, "cgroup2"},
		{r.Checks, "cgroup delegation"},
		{r.Features, "systemd-cgroup"},
	} {
		if p := wantItem(w.items, w.name, OK); p != "" {
			t.Errorf("%s (run me inside the testbed: go run ./cmd/sdbuild-testbed run -- go test -tags integration ./doctor/)", p)
		}
	}
	if !r.OK {
		t.Errorf("report not OK; blocking: %v", r.Blocking())
	}
}
