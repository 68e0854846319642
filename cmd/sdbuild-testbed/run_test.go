//go:build linux && !integration

package main

import (
	"path/filepath"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// TestRunExitStatus runs commands in real testbeds (so, on the host as root)
// and checks that `run` exits with the command's status.
func TestRunExitStatus(t *testing.T) {
	testutil.RequireRoot(t, "boots systemd in new namespaces")
	tests := []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"kill -9 $$", 128 + 9},
		{"exec /nonexistent", 127},
		{"test \"$(hostname)\" = sdbuild-testbed-cmd", 0},
		// The testbed's own /tmp and /var/tmp, not the host's.
		{"test \"$(stat -f -c %T /tmp /var/tmp)\" = \"$(printf 'tmpfs\\ntmpfs')\"", 0},
	}
	for _, tt := range tests {
		log := filepath.Join(t.TempDir(), "console.log")
		args := []string{"run", "--name", "sdbuild-testbed-cmd", "--log", log, "--", "sh", "-c", tt.script}
		if got := execute(args); got != tt.want {
			t.Errorf("sdbuild-testbed run -- sh -c %q exits %d, want %d", tt.script, got, tt.want)
		}
	}
}

func TestExecuteUsage(t *testing.T) {
	for _, args := range [][]string{{"run"}, {"nosuchcommand"}, {"shell", "extra"}} {
		if got := execute(args); got != 2 {
			t.Errorf("sdbuild-testbed %q exits %d, want 2 (usage)", args, got)
		}
	}
}
