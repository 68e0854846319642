package api

// Causes: why a build that did not succeed ended, as Outcome.Cause, the
// journal's SDBUILD_CAUSE and sdbuild's --json give it. The values are
// fixed: scripts match them.
const (
	CauseExited        = "exited"          // the builder exited with a status other than 0
	CauseSignal        = "signal"          // the builder was killed by a signal (Outcome.Signal)
	CauseOOMKill       = "oom-kill"        // the kernel's OOM killer killed a process of the build
	CauseTimeout       = "timeout"         // the build's timeout passed
	CauseSilent        = "max-silent-time" // the build printed nothing for max-silent-time
	CauseCancelled     = "cancelled"       // a user cancelled it (Outcome.CancelledBy)
	CauseDaemonStopped = "daemon-stopped"  // sdbuildd stopped or died while it was queued or ran
	CauseError         = "error"           // sdbuild could not run it, or rejected its output (Outcome.Error)
)
