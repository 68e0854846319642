package buildlog

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"
)

func TestSendEvent(t *testing.T) {
	sendErr := errors.New("no journald")
	tests := []struct {
		name    string
		id      string
		unit    string
		fields  map[string]string
		fail    error
		want    map[string]string // nil: an error is expected
		wantErr error
	}{
		{"with unit", "e1", "sdbuild-e1.scope", map[string]string{"SDBUILD_EVENT": "started", "SDBUILD_SLOT": "3"},
			nil, map[string]string{"SYSLOG_IDENTIFIER": "sdbuild", "SDBUILD_ID": "e1", "OBJECT_SYSTEMD_UNIT": "sdbuild-e1.scope", "SDBUILD_EVENT": "started", "SDBUILD_SLOT": "3",
				"PRIORITY": "6", "MESSAGE_ID": MessageStarted}, nil},
		{"without unit", "e1", "", map[string]string{"SDBUILD_EVENT": "queued"},
			nil, map[string]string{"SYSLOG_IDENTIFIER": "sdbuild", "SDBUILD_ID": "e1", "SDBUILD_EVENT": "queued", "PRIORITY": "6", "MESSAGE_ID": MessageQueued}, nil},
		{"no kind", "e1", "", map[string]string{"SDBUILD_SLOT": "3"}, nil, nil, ErrInvalidField},
		{"nil fields", "e1", "", nil, nil, nil, ErrInvalidField},
		{"lower case", "e1", "", map[string]string{"SDBUILD_EVENT": "x", "Slot": "3"}, nil, nil, ErrInvalidField},
		{"leading underscore", "e1", "", map[string]string{"SDBUILD_EVENT": "x", "_PID": "3"}, nil, nil, ErrInvalidField},
		{"leading digit", "e1", "", map[string]string{"SDBUILD_EVENT": "x", "9LIVES": "3"}, nil, nil, ErrInvalidField},
		{"dash", "e1", "", map[string]string{"SDBUILD_EVENT": "x", "A-B": "3"}, nil, nil, ErrInvalidField},
		{"empty name", "e1", "", map[string]string{"SDBUILD_EVENT": "x", "": "3"}, nil, nil, ErrInvalidField},
		{"65 characters", "e1", "", map[string]string{"SDBUILD_EVENT": "x", strings.Repeat("A", 65): "3"}, nil, nil, ErrInvalidField},
		{"64 characters", "e1", "", map[string]string{"SDBUILD_EVENT": "x", strings.Repeat("A", 64): "3"},
			nil, map[string]string{"SYSLOG_IDENTIFIER": "sdbuild", "SDBUILD_ID": "e1", "SDBUILD_EVENT": "x", strings.Repeat("A", 64): "3", "PRIORITY": "6"}, nil},
		{"sets PRIORITY", "e1", "", map[string]string{"SDBUILD_EVENT": "x", "PRIORITY": "2"}, nil, nil, ErrInvalidField},
		{"sets MESSAGE_ID", "e1", "", map[string]string{"SDBUILD_EVENT": "x", "MESSAGE_ID": "0"}, nil, nil, ErrInvalidField},
		{"sets MESSAGE", "e1", "", map[string]string{"SDBUILD_EVENT": "x", "MESSAGE": "m"}, nil, nil, ErrInvalidField},
		{"sets SDBUILD_ID", "e1", "", map[string]string{"SDBUILD_EVENT": "x", "SDBUILD_ID": "other"}, nil, nil, ErrInvalidField},
		{"sets OBJECT_SYSTEMD_UNIT", "e1", "", map[string]string{"SDBUILD_EVENT": "x", "OBJECT_SYSTEMD_UNIT": "u"}, nil, nil, ErrInvalidField},
		{"bad id", "e/1", "", map[string]string{"SDBUILD_EVENT": "x"}, nil, nil, ErrInvalidID},
		{"journal fails", "e1", "", map[string]string{"SDBUILD_EVENT": "x"}, sendErr, nil, sendErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{fail: tt.fail}
			err := sendEvent(rec, tt.id, tt.unit, "msg", tt.fields)
			got := rec.got()
			if tt.want == nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("sendEvent(%v) = %v, want %v", tt.fields, err, tt.wantErr)
				}
				if len(got) != 0 {
					t.Errorf("sendEvent(%v) sent %v, want nothing", tt.fields, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("sendEvent(%v) = %v", tt.fields, err)
			}
			if len(got) != 1 || got[0].msg != "msg" || !maps.Equal(got[0].fields, tt.want) {
				t.Errorf("sendEvent(%v) sent %v, want one entry %q %v", tt.fields, got, "msg", tt.want)
			}
		})
	}
}

func TestLifecycleMessages(t *testing.T) {
	tests := []struct {
		name    string
		msg     func() (string, map[string]string)
		want    string
		wantFld map[string]string
	}{
		{"queued", func() (string, map[string]string) { return queuedMessage("b1") },
			"build b1 queued", map[string]string{"SDBUILD_EVENT": "queued"}},
		{"started", func() (string, map[string]string) { return startedMessage("b1", "sdbuild-b1.scope", 3) },
			"build b1 started on slot 3 in sdbuild-b1.scope", map[string]string{"SDBUILD_EVENT": "started", "SDBUILD_SLOT": "3"}},
		{"started, unit unknown", func() (string, map[string]string) { return startedMessage("b1", "", 0) },
			"build b1 started on slot 0", map[string]string{"SDBUILD_EVENT": "started", "SDBUILD_SLOT": "0"}},
		{"finished, measured", func() (string, map[string]string) {
			return Outcome{Status: "failed", ExitCode: 2, Duration: 1500 * time.Millisecond, CPU: 700 * time.Millisecond, MemoryPeak: 3 << 20}.message("b1")
		}, "build b1 finished: failed, exit code 2, after 1.5s, CPU 700ms, memory peak 3.0 MiB", map[string]string{
			"SDBUILD_EVENT": "finished", "SDBUILD_STATUS": "failed", "SDBUILD_EXIT_CODE": "2",
			"SDBUILD_DURATION_USEC": "1500000", "SDBUILD_CPU_USEC": "700000", "SDBUILD_MEMORY_PEAK": "3145728"}},
		{"finished, not measured", func() (string, map[string]string) {
			return Outcome{Status: "succeeded", Duration: 2 * time.Second}.message("b1")
		}, "build b1 finished: succeeded, exit code 0, after 2s", map[string]string{
			"SDBUILD_EVENT": "finished", "SDBUILD_STATUS": "succeeded", "SDBUILD_EXIT_CODE": "0", "SDBUILD_DURATION_USEC": "2000000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, f := tt.msg()
			if msg != tt.want || !maps.Equal(f, tt.wantFld) {
				t.Errorf("message = %q %v, want %q %v", msg, f, tt.want, tt.wantFld)
			}
			for name := range f {
				if err := checkField(name); err != nil {
					t.Errorf("field %s: %v", name, err)
				}
			}
		})
	}
}

func TestCheckID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"0123456789ab", true},
		{"Build_1-x", true},
		{strings.Repeat("a", maxIDLen), true},
		{strings.Repeat("a", maxIDLen+1), false},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"a.log", false},
		{"a b", false},
		{"a\n", false},
		{"ü", false},
	}
	for _, tt := range tests {
		err := checkID(tt.id)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrInvalidID) {
			t.Errorf("checkID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
	}
}
