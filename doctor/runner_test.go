package doctor

import (
	"errors"
	"io/fs"
	"testing"
)

func TestCheckRunner(t *testing.T) {
	h := healthyHost()
	if msg := wantItem(checkRunner(h), checkRunnerService, OK, "off"); msg != "" {
		t.Error(msg)
	}
	tests := []struct {
		name     string
		set      func(h *Host)
		item     string
		status   Status
		contains []string
	}{
		{"healthy", func(h *Host) {}, checkRunnerDir, OK, []string{"/var/lib/w/build"}},
		{"features", func(h *Host) { h.Config.Runner.Features = []string{"uid-rang"} }, checkRunnerService, Missing, []string{"runner-features"}},
		{"properties", func(h *Host) { h.Config.Runner.Properties = []string{"NoSuchProperty=1"} }, checkRunnerService, Missing, []string{"runner-properties"}},
		{"no dir", func(h *Host) { h.Runner.DirErr = fs.ErrNotExist }, checkRunnerDir, Missing, []string{"create it"}},
		{"under tmp", func(h *Host) { h.Config.Runner.BuildDir = "/tmp/build" }, checkRunnerDir, Missing, []string{"/tmp"}},
		{"no socket", func(h *Host) { h.Runner.SocketErr = errors.New("no such file") }, checkRunnerSocket, Warning, []string{"sdbuild-runner.socket"}},
	}
	for _, tt := range tests {
		h := healthyHost()
		h.Config.Runner.BuildDir = "/var/lib/w/build"
		h.Runner = RunnerFacts{DirMode: fs.ModeDir | 0o755}
		tt.set(h)
		if msg := wantItem(checkRunner(h), tt.item, tt.status, tt.contains...); msg != "" {
			t.Errorf("%s: %s", tt.name, msg)
		}
	}
}
