package buildlog

import (
	"testing"
	"time"
)

// Every way a build ends gets the priority and message id systemd's own
// unit records would: journalctl -p err shows failed builds only.
func TestFinishedPriority(t *testing.T) {
	for _, tt := range []struct {
		o       Outcome
		pri, id string
		fields  map[string]string
	}{
		{Outcome{Status: "succeeded"}, "6", MessageSucceeded, nil},
		{Outcome{Status: "failed", ExitCode: 2, Cause: "exited", Error: "builder exited with status 2"}, "3", MessageFailed,
			map[string]string{FieldCause: "exited"}},
		{Outcome{Status: "failed", ExitCode: 137, Cause: "oom-kill", Error: "builder killed by the OOM killer"}, "3", MessageFailed,
			map[string]string{FieldCause: "oom-kill"}},
		{Outcome{Status: "timed-out", Cause: "max-silent-time"}, "3", MessageFailed, map[string]string{FieldCause: "max-silent-time"}},
		{Outcome{Status: "cancelled", Cause: "cancelled", CancelledBy: "alice"}, "5", MessageCancelled,
			map[string]string{FieldCause: "cancelled", FieldCancelledBy: "alice"}},
		{Outcome{Status: "interrupted", Cause: "daemon-stopped"}, "4", MessageCancelled, map[string]string{FieldCause: "daemon-stopped"}},
		{Outcome{Status: "succeeded", IOReadBytes: 4096, IOWriteBytes: 8192}, "6", MessageSucceeded,
			map[string]string{FieldIOReadBytes: "4096", FieldIOWriteBytes: "8192"}},
	} {
		rec := &recorder{}
		o := tt.o
		o.Duration = time.Second
		msg, f := o.message("e1")
		if err := sendEvent(rec, "e1", "", msg, f); err != nil {
			t.Fatal(err)
		}
		got := rec.got()[0].fields
		if got[FieldPriority] != tt.pri || got[FieldMessageID] != tt.id {
			t.Errorf("Finished(%+v): PRIORITY=%s MESSAGE_ID=%s, want %s %s", tt.o, got[FieldPriority], got[FieldMessageID], tt.pri, tt.id)
		}
		for k, v := range tt.fields {
			if got[k] != v {
				t.Errorf("Finished(%+v): %s=%q, want %q", tt.o, k, got[k], v)
			}
		}
		if _, ok := got[FieldCause]; ok != (tt.o.Cause != "") {
			t.Errorf("Finished(%+v): SDBUILD_CAUSE present = %v", tt.o, ok)
		}
	}
	// journald gets the priority as journal.Send's argument, once.
	pri, rest := priorityOf(map[string]string{FieldPriority: "3", FieldEvent: EventFinished})
	if pri != 3 || rest[FieldPriority] != "" || rest[FieldEvent] != EventFinished {
		t.Errorf("priorityOf = %d, %v", pri, rest)
	}
}
