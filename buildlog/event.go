package buildlog

import (
	"fmt"
	"strconv"
	"time"
)

// FieldEvent names the kind of a lifecycle entry; Event requires it.
const FieldEvent = "SDBUILD_EVENT"

// Kinds of lifecycle event, the values of FieldEvent that Queued, Started
// and Finished send.
const (
	EventQueued   = "queued"
	EventStarted  = "started"
	EventFinished = "finished"
	// EventCollected: gc removed what finished builds left. It is about
	// no one build; its SDBUILD_ID is "gc".
	EventCollected = "collected"
)

// Fields of lifecycle entries, besides those of every entry.
const (
	FieldSlot         = "SDBUILD_SLOT"
	FieldStatus       = "SDBUILD_STATUS"
	FieldExitCode     = "SDBUILD_EXIT_CODE"
	FieldDurationUsec = "SDBUILD_DURATION_USEC"
	FieldCPUUsec      = "SDBUILD_CPU_USEC"
	FieldMemoryPeak   = "SDBUILD_MEMORY_PEAK"
	FieldIOReadBytes  = "SDBUILD_IO_READ_BYTES"
	FieldIOWriteBytes = "SDBUILD_IO_WRITE_BYTES"
)

// maxFieldName is journald's limit; it drops longer names silently.
const maxFieldName = 64

// Event sends one lifecycle entry about build id to journald: msg, with
// SYSLOG_IDENTIFIER=sdbuild, SDBUILD_ID=id, OBJECT_SYSTEMD_UNIT=unit unless
// unit is "", and fields, which must include SDBUILD_EVENT. A field name
// journald would drop (it accepts 1-64 of A-Z, 0-9 and '_', not starting
// with '_' or a digit) or one Event sets itself is an error wrapping
// ErrInvalidField, and nothing is sent. When journald is not running, the
// error is the socket's; the build's log file does not depend on events.
func Event(id, unit, msg string, fields map[string]string) error {
	return sendEvent(journald{}, id, unit, msg, fields)
}

func sendEvent(s sink, id, unit, msg string, fields map[string]string) error {
	if err := checkID(id); err != nil {
		return fmt.Errorf("send event: %w", err)
	}
	kind := fields[FieldEvent]
	if kind == "" {
		return fmt.Errorf("send event for build %s: no %s field: %w", id, FieldEvent, ErrInvalidField)
	}
	all := entryFields(id, unit, len(fields))
	for name, v := range fields {
		if err := checkField(name); err != nil {
			return fmt.Errorf("send event %s for build %s: %w", kind, id, err)
		}
		all[name] = v
	}
	pri, mid := classify(all)
	all[FieldPriority] = strconv.Itoa(int(pri))
	if mid != "" {
		all[FieldMessageID] = mid
	}
	if err := s.send(msg, all); err != nil {
		return fmt.Errorf("send event %s for build %s: %w", kind, id, err)
	}
	return nil
}

// checkField accepts a field name that journald keeps and that Event does
// not set itself. go-systemd only warns on stderr about a bad name and
// sends it anyway, and journald then drops the field without a word.
func checkField(name string) error {
	switch name {
	case "MESSAGE", FieldPriority, FieldMessageID, FieldIdentifier, FieldID, FieldUnit, FieldUserUnit:
		// A second value would make the field an array in the journal.
		return fmt.Errorf("field %s is set by sdbuild: %w", name, ErrInvalidField)
	}
	if name == "" || len(name) > maxFieldName || name[0] == '_' || '0' <= name[0] && name[0] <= '9' {
		return fmt.Errorf("field %q: must be 1-%d characters, not starting with '_' or a digit: %w", name, maxFieldName, ErrInvalidField)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return fmt.Errorf("field %q: only A-Z, 0-9 and '_' are allowed: %w", name, ErrInvalidField)
		}
	}
	return nil
}

// Queued sends the event that build id waits for a slot. unit may name the
// scope the build will run in, so that `journalctl -u` shows its whole life.
func Queued(id, unit string) error {
	msg, f := queuedMessage(id)
	return Event(id, unit, msg, f)
}

func queuedMessage(id string) (string, map[string]string) {
	return "build " + id + " queued", map[string]string{FieldEvent: EventQueued}
}

// Started sends the event that build id runs on UID slot slot in unit.
func Started(id, unit string, slot int) error {
	msg, f := startedMessage(id, unit, slot)
	return Event(id, unit, msg, f)
}

func startedMessage(id, unit string, slot int) (string, map[string]string) {
	msg := fmt.Sprintf("build %s started on slot %d", id, slot)
	if unit != "" {
		msg += " in " + unit
	}
	return msg, map[string]string{FieldEvent: EventStarted, FieldSlot: strconv.Itoa(slot)}
}

// Outcome is how a build ended, for Finished.
type Outcome struct {
	Status     string        // succeeded, failed, timed-out, cancelled, interrupted
	ExitCode   int           // the builder's exit code
	Duration   time.Duration // wall clock from start to end
	CPU        time.Duration // CPU time of the build's cgroup; 0 if not measured
	MemoryPeak uint64        // bytes; 0 if not measured (no memory controller)
	// Cause says why a build that did not succeed ended, CancelledBy who
	// cancelled it (see FieldCause); Error is the reason in words.
	Cause, CancelledBy, Error string
	// IOReadBytes and IOWriteBytes are the cgroup's io.stat totals; 0 if
	// not measured (no io controller).
	IOReadBytes, IOWriteBytes uint64
}

// Finished sends the event that build id ended, with o.
func Finished(id, unit string, o Outcome) error {
	msg, f := o.message(id)
	return Event(id, unit, msg, f)
}

// message leaves out what was not measured: the journal should not claim a
// build used no memory when the host could not tell.
func (o Outcome) message(id string) (string, map[string]string) {
	f := map[string]string{
		FieldEvent:        EventFinished,
		FieldStatus:       o.Status,
		FieldExitCode:     strconv.Itoa(o.ExitCode),
		FieldDurationUsec: strconv.FormatInt(o.Duration.Microseconds(), 10),
	}
	msg := fmt.Sprintf("build %s finished: %s, exit code %d, after %v", id, o.Status, o.ExitCode, o.Duration.Round(time.Millisecond))
	if o.CPU > 0 {
		f[FieldCPUUsec] = strconv.FormatInt(o.CPU.Microseconds(), 10)
		msg += fmt.Sprintf(", CPU %v", o.CPU.Round(time.Millisecond))
	}
	if o.MemoryPeak > 0 {
		f[FieldMemoryPeak] = strconv.FormatUint(o.MemoryPeak, 10)
		msg += fmt.Sprintf(", memory peak %.1f MiB", float64(o.MemoryPeak)/(1<<20))
	}
	if o.IOReadBytes > 0 || o.IOWriteBytes > 0 {
		f[FieldIOReadBytes] = strconv.FormatUint(o.IOReadBytes, 10)
		f[FieldIOWriteBytes] = strconv.FormatUint(o.IOWriteBytes, 10)
	}
	if o.Cause != "" {
		f[FieldCause] = o.Cause
	}
	if o.CancelledBy != "" {
		f[FieldCancelledBy] = o.CancelledBy
	}
	if o.Error != "" {
		msg += ": " + o.Error
	}
	return msg, f
}
