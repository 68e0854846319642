package daemon

import (
	"testing"

	"github.com/sdbuild/sdbuild/api"
)

// The OOM killer's kills come from memory.events, which this host's
// cgroup2 lacks: they are given here as the count ReadStats would read.
func TestCauseOf(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    api.Outcome
		oom  uint64
		want string
	}{
		{"succeeded", api.Outcome{Status: api.StatusSucceeded}, 0, ""},
		{"succeeded though a child was OOM-killed", api.Outcome{Status: api.StatusSucceeded}, 1, ""},
		{"exit status", api.Outcome{Status: api.StatusFailed, ExitCode: 2}, 0, api.CauseExited},
		{"signal", api.Outcome{Status: api.StatusFailed, ExitCode: 139, Signal: 11}, 0, api.CauseSignal},
		{"OOM-killed builder", api.Outcome{Status: api.StatusFailed, ExitCode: 137, Signal: 9}, 1, api.CauseOOMKill},
		{"make exits after its compiler was OOM-killed", api.Outcome{Status: api.StatusFailed, ExitCode: 2}, 3, api.CauseOOMKill},
		{"timeout", api.Outcome{Status: api.StatusTimedOut, Limit: "timeout"}, 0, api.CauseTimeout},
		{"timeout beats a late OOM kill", api.Outcome{Status: api.StatusTimedOut, Limit: "timeout"}, 1, api.CauseTimeout},
		{"silence", api.Outcome{Status: api.StatusTimedOut, Limit: "max-silent-time"}, 0, api.CauseSilent},
		{"cancelled", api.Outcome{Status: api.StatusCancelled}, 0, api.CauseCancelled},
		{"daemon stopped", api.Outcome{Status: api.StatusInterrupted}, 0, api.CauseDaemonStopped},
		{"sdbuild could not run it", api.Outcome{Status: api.StatusFailed, Error: "no free slot"}, 0, api.CauseError},
		{"output rejected", api.Outcome{Status: api.StatusFailed, Error: "output: symlink escapes"}, 0, api.CauseError},
	} {
		if got := causeOf(&tt.o, tt.oom); got != tt.want {
			t.Errorf("%s: causeOf(%+v, %d) = %q, want %q", tt.name, tt.o, tt.oom, got, tt.want)
		}
	}
}
