package daemon

import (
	"testing"

	"github.com/sdbuild/sdbuild/api"
)

// This host's cgroup2 has no memory controller, so the OOM outcome is
// tested from memory.events counts (internal/cgroup2's parser has its own
// table).
func TestOOMOutcome(t *testing.T) {
	killed := api.Outcome{Status: api.StatusFailed, ExitCode: 137, Signal: 9, Error: "builder killed by signal KILL (core not dumped)"}
	exited := api.Outcome{Status: api.StatusFailed, ExitCode: 1, Error: "builder exited with status 1"}
	for _, tt := range []struct {
		name  string
		in    api.Outcome
		kills uint64
		limit string
		want  api.Outcome
	}{
		{"the builder OOM-killed", killed, 1, "MemoryMax=1G",
			api.Outcome{Status: api.StatusFailed, ExitCode: 137, Signal: 9, OOMKilled: true, Error: "builder killed by the OOM killer (MemoryMax=1G)"}},
		{"no limit set", killed, 1, "",
			api.Outcome{Status: api.StatusFailed, ExitCode: 137, Signal: 9, OOMKilled: true, Error: "builder killed by the OOM killer"}},
		{"a child OOM-killed", exited, 2, "MemoryMax=512M",
			api.Outcome{Status: api.StatusFailed, ExitCode: 1, OOMKilled: true, Error: "builder exited with status 1; the OOM killer killed a process of the build (MemoryMax=512M)"}},
		{"a SIGKILL without OOM", killed, 0, "MemoryMax=1G", killed},
		{"succeeded despite a kill", api.Outcome{Status: api.StatusSucceeded}, 1, "MemoryMax=1G", api.Outcome{Status: api.StatusSucceeded}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in
			oomOutcome(&got, tt.kills, tt.limit)
			if got != tt.want {
				t.Errorf("oomOutcome(%+v, %d, %q) = %+v, want %+v", tt.in, tt.kills, tt.limit, got, tt.want)
			}
		})
	}
	if got := memoryLimit([]string{"TasksMax=10", "MemoryMax=1G", "MemoryMax=2G"}); got != "MemoryMax=2G" {
		t.Errorf("memoryLimit = %q, want the last MemoryMax", got)
	}
}
