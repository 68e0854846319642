package doctor

import (
	"errors"
	"testing"
)

func TestCheckSystemd(t *testing.T) {
	for _, tc := range []struct {
		name       string
		err        error
		booted     bool
		comm       string
		busStatus  Status
		busWant    string
		pid1Status Status
		pid1Want   string
	}{
		{"running", nil, true, "systemd", OK, "can start build scopes", OK, "PID 1 is systemd"},
		{"this VM", errors.New("connect to systemd: system bus: system bus not found"), false, "process_api",
			Missing, "system bus not found", Missing, "PID 1 (process_api) is not systemd"},
		{"booted but bus down", errors.New("connect to systemd: context deadline exceeded"), true, "systemd",
			Missing, "run --local works without", OK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Host{SystemdErr: tc.err, SystemdBooted: tc.booted, Files: map[string]string{filePID1Comm: tc.comm + "\n"}}
			items := checkSystemd(h)
			if p := wantItem(items, "systemd D-Bus", tc.busStatus, tc.busWant); p != "" {
				t.Error(p)
			}
			if p := wantItem(items, "systemd PID 1", tc.pid1Status, tc.pid1Want); p != "" {
				t.Error(p)
			}
			for _, it := range items {
				if it.Required {
					t.Errorf("%s required: --local builds run without systemd", it.Name)
				}
			}
		})
	}
}
