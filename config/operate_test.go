package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true},
		{"30d", 30 * 24 * time.Hour, true},
		{"2w", 14 * 24 * time.Hour, true},
		{"36h", 36 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"1h 30min", 90 * time.Minute, true},
		{"1.5d", 36 * time.Hour, true},
		{"600", 10 * time.Minute, true},
		{"-1h", 0, false},
		{"soon", 0, false},
	} {
		got, err := ParseAge(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseAge(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestOperationsKeys(t *testing.T) {
	path := writeFile(t, "sdbuild.toml", `
keep-history = "90d"
keep-logs = "30d"
default-timeout = "4h"
default-max-silent-time = "20m"
default-properties = ["TasksMax=4096", "MemoryHigh=8G"]
max-properties = ["MemoryMax=16G"]
`)
	c, err := Load(Source{File: path})
	if err != nil {
		t.Fatal(err)
	}
	h, l, d := c.Ops.Ages()
	if h != 90*24*time.Hour || l != 30*24*time.Hour || d != DefaultKeepDirs {
		t.Errorf("Ages() = %v, %v, %v", h, l, d)
	}
	if to, s := c.Ops.Limits(); to != 4*time.Hour || s != 20*time.Minute {
		t.Errorf("Limits() = %v, %v", to, s)
	}
	if got := strings.Join(c.Ops.DefaultProperties, " "); got != "TasksMax=4096 MemoryHigh=8G" {
		t.Errorf("default-properties = %q", got)
	}

	path = writeFile(t, "bad.toml", `
keep-logs = "a month"
max-properties = ["MemoryMax"]
`)
	_, err = Load(Source{File: path})
	if !errors.Is(err, ErrInvalidValue) || !strings.Contains(err.Error(), `keep-logs = "a month"`) || !strings.Contains(err.Error(), `max-properties entry "MemoryMax"`) {
		t.Errorf("Load(bad operations keys) = %v, want both named", err)
	}
}
