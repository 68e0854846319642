package buildlog

import (
	"os"

	"github.com/coreos/go-systemd/v22/journal"
)

// Fields sdbuild puts on every journal entry about a build.
const (
	FieldIdentifier = "SYSLOG_IDENTIFIER"
	FieldID         = "SDBUILD_ID"
	FieldUnit       = "OBJECT_SYSTEMD_UNIT"
	// FieldUserUnit names the unit when the sender is not root: a user's
	// own daemon, whose scopes are units of the user's manager.
	// journalctl --user -u matches it on entries of that user's uid, as
	// journalctl -u matches FieldUnit only on entries root sent.
	FieldUserUnit = "OBJECT_SYSTEMD_USER_UNIT"
)

// unitField is the field that names a build's unit from this process.
var unitField = func() string {
	if os.Geteuid() == 0 {
		return FieldUnit
	}
	return FieldUserUnit
}()

// identifier is SYSLOG_IDENTIFIER on every entry, so `journalctl -t sdbuild`
// shows all builds.
const identifier = "sdbuild"

// sink is where journal entries go: journald, or in tests a recorder, so
// the line and event logic is tested without a journald.
type sink interface {
	// send delivers one entry. It must not keep fields.
	send(msg string, fields map[string]string) error
}

// journald sends entries over journald's native socket.
type journald struct{}

func (journald) send(msg string, fields map[string]string) error {
	pri, fields := priorityOf(fields)
	return journal.Send(msg, pri, fields)
}

// defaultSink is journald when it is running, nil otherwise: then Write
// need not even look for lines.
func defaultSink() sink {
	if journal.Enabled() {
		return journald{}
	}
	return nil
}

// entryFields returns the fields that tie an entry to build id and, when
// unit is not empty, to its unit; extra leaves room for more.
func entryFields(id, unit string, extra int) map[string]string {
	f := make(map[string]string, 3+extra)
	f[FieldIdentifier] = identifier
	f[FieldID] = id
	if unit != "" {
		f[unitField] = unit
	}
	return f
}
