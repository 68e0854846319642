package timespan

import (
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"90", 90 * time.Second, false}, // as Nix's --timeout 90
		{"5min", 5 * time.Minute, false},
		{"1h 30s", time.Hour + 30*time.Second, false},
		{"1h30min", 90 * time.Minute, false},
		{"300ms", 300 * time.Millisecond, false},
		{"1.5s", 1500 * time.Millisecond, false},
		{" 2 min ", 2 * time.Minute, false},
		{"infinity", 0, false},
		{"0", 0, false},
		{"2m", 2 * time.Minute, false}, // systemd's m is minutes
		{"", 0, true},
		{"-5s", 0, true},
		{"5 parsecs", 0, true},
		{"1e3", 0, true},
		{"1m30", 90 * time.Second, false}, // trailing bare number: seconds, as systemd
	} {
		got, err := Parse(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) error %v does not wrap ErrSyntax", tt.in, err)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		in   time.Duration
		want string
	}{
		{0, "0"},
		{250 * time.Microsecond, "250us"},
		{1234 * time.Millisecond, "1.234s"},
		{1500 * time.Millisecond, "1.5s"},
		{90 * time.Second, "1min 30s"},
		{90 * time.Minute, "1h 30min"},
		{time.Hour + 30*time.Second, "1h 30s"},
		{250 * time.Millisecond, "250ms"},
		{8 * 24 * time.Hour, "1w 1d"},
		{61*time.Second + 5*time.Millisecond, "1min 1.005s"},
	} {
		got := Format(tt.in)
		if got != tt.want {
			t.Errorf("Format(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if back, err := Parse(got); err != nil || back != tt.in.Round(time.Millisecond) && tt.in >= time.Millisecond {
			t.Errorf("Parse(Format(%v)) = %v, %v; want it back", tt.in, back, err)
		}
	}
}
