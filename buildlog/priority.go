package buildlog

import (
	"maps"
	"strconv"

	"github.com/coreos/go-systemd/v22/journal"
)

// Fields a lifecycle entry carries as systemd's own records do:
// journalctl -p err shows failed builds, and journalctl MESSAGE_ID=… finds
// every entry of one kind whatever its wording.
const (
	FieldPriority  = "PRIORITY"
	FieldMessageID = "MESSAGE_ID"
	// FieldCause says why a build that did not succeed ended (api.Outcome's
	// Cause: exited, signal, oom-kill, timeout, max-silent-time,
	// cancelled, daemon-stopped, error).
	FieldCause = "SDBUILD_CAUSE"
	// FieldCancelledBy names who cancelled the build.
	FieldCancelledBy = "SDBUILD_CANCELLED_BY"
)

// Message ids, one per kind of lifecycle entry. They are sdbuild's own
// 128-bit ids, fixed for good: scripts and journalctl filters rely on them.
const (
	MessageQueued    = "ed639ea4b6e14549a514d5ff5814248f"
	MessageStarted   = "a4e5c5fd43a24dceacbd62518d681c17"
	MessageSucceeded = "46921571907d4fb7b525f91ef5002191"
	MessageFailed    = "e67c19b7554849709d967b7ad0c26f65" // failed, timed out
	MessageCancelled = "1235c83a644a443b8c0f515d6c21b678" // cancelled, or ended by the daemon stopping
	MessageCollected = "b87815a0cf6d4b07aca9a6415e30687c" // gc removed records, logs or directories
)

// classify gives a lifecycle entry its syslog priority and message id,
// from its kind and, for a finished build, its status: a failed build is
// an error, a build the daemon's stop killed a warning, a cancelled one a
// notice, everything else information.
func classify(fields map[string]string) (journal.Priority, string) {
	switch fields[FieldEvent] {
	case EventQueued:
		return journal.PriInfo, MessageQueued
	case EventStarted:
		return journal.PriInfo, MessageStarted
	case EventCollected:
		return journal.PriInfo, MessageCollected
	case EventFinished:
		switch fields[FieldStatus] {
		case "succeeded":
			return journal.PriInfo, MessageSucceeded
		case "cancelled":
			return journal.PriNotice, MessageCancelled
		case "interrupted":
			return journal.PriWarning, MessageCancelled
		}
		return journal.PriErr, MessageFailed
	}
	return journal.PriInfo, ""
}

// priorityOf reads the PRIORITY field sendEvent set; entries without one
// (a build's output lines) are information.
func priorityOf(fields map[string]string) (journal.Priority, map[string]string) {
	p, ok := fields[FieldPriority]
	if !ok {
		return journal.PriInfo, fields
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 7 {
		n = int(journal.PriInfo)
	}
	// journal.Send writes PRIORITY itself; a second one would make the
	// field an array.
	rest := maps.Clone(fields)
	delete(rest, FieldPriority)
	return journal.Priority(n), rest
}
