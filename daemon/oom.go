package daemon

import (
	"strings"
	"syscall"

	"github.com/sdbuild/sdbuild/api"
)

// oomOutcome marks a failed build whose scope's memory.events counted
// kills by the OOM killer (kills): a builder killed by SIGKILL then reads
// "killed by the OOM killer (MemoryMax=1G)", not as a signal out of
// nowhere; a builder that failed after the OOM killer took one of its
// processes says so too.
func oomOutcome(o *api.Outcome, kills uint64, limit string) {
	if kills == 0 || o.Status != api.StatusFailed {
		return
	}
	o.OOMKilled = true
	if o.Signal == int(syscall.SIGKILL) || o.Error == "killed" {
		o.Error = "builder " + api.OOMText(limit)
		return
	}
	o.Error += "; " + api.OOMProcessText(limit)
}

// memoryLimit is the -p property whose limit the OOM killer enforces,
// as the client gave it ("MemoryMax=1G"), or "".
func memoryLimit(props []string) string {
	limit := ""
	for _, p := range props {
		if strings.HasPrefix(p, "MemoryMax=") {
			limit = p // the last one wins, as with systemd-run -p
		}
	}
	return limit
}
