package daemon

import (
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/buildlog"
)

// causeOf says why a build ended that did not succeed (api.Cause…), from
// its final outcome and the number of processes the OOM killer took in
// its scope (memory.events' oom_kill; 0 where the memory controller is
// missing). An OOM kill explains a failure however the builder died: the
// OOM killer may take a compiler and leave make to exit 2. A limit or a
// cancellation explains it first, as sdbuild's own kill is what ended
// the build then.
func causeOf(o *api.Outcome, oomKills uint64) string {
	switch o.Status {
	case api.StatusSucceeded, api.StatusQueued, api.StatusRunning:
		return ""
	case api.StatusInterrupted:
		return api.CauseDaemonStopped
	case api.StatusCancelled:
		return api.CauseCancelled
	case api.StatusTimedOut:
		if o.Limit == api.CauseSilent {
			return api.CauseSilent
		}
		return api.CauseTimeout
	}
	switch {
	case oomKills > 0:
		return api.CauseOOMKill
	case o.Signal != 0:
		return api.CauseSignal
	case o.ExitCode != 0:
		return api.CauseExited
	}
	// Failed without an exit status: sdbuild could not run it, or its
	// output was rejected (Error says which), or it was killed by
	// sdbuild for a reason Error gives.
	return api.CauseError
}

// journalOutcome is what the journal's finished entry says of b.
func journalOutcome(b *api.Build) buildlog.Outcome {
	dur := b.Finished.Sub(b.Created)
	if !b.Started.IsZero() {
		dur = b.Finished.Sub(b.Started)
	}
	return buildlog.Outcome{
		Status: string(b.Status), ExitCode: b.ExitCode, Duration: dur,
		CPU: time.Duration(b.CPUUsec) * time.Microsecond, MemoryPeak: b.MemoryPeak,
		Cause: b.Cause, CancelledBy: b.CancelledBy, Error: b.Error,
		IOReadBytes: b.IOReadBytes, IOWriteBytes: b.IOWriteBytes,
	}
}
