package buildlog

import "github.com/coreos/go-systemd/v22/journal"

// Fields sdbuild puts on every journal entry about a build.
const (
	FieldIdentifier = "SYSLOG_IDENTIFIER"
	FieldID         = "SDBUILD_ID"
	FieldUnit       = "OBJECT_SYSTEMD_UNIT"
)

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
	return journal.Send(msg, journal.PriInfo, fields)
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
		f[FieldUnit] = unit
	}
	return f
}
