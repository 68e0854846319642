package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/sdbuild/sdbuild/internal/timespan"
)

// Operations are the settings of a shared builder: how long the daemon
// keeps what builds leave, and the limits every build gets unless it asks
// for others within what the administrator allows.
type Operations struct {
	// Ages ("30d", "12h", "90min"; "" keeps forever) after which the
	// daemon removes, on its own, finished builds' records, their logs,
	// and build directories kept with --keep-failed.
	KeepHistory string // keep-history
	KeepLogs    string // keep-logs
	KeepDirs    string // keep-build-dirs
	// KeptRoot holds kept build directories, one directory per user;
	// "" is <state-dir>-kept, beside the state directory, which only
	// root may enter.
	KeptRoot string // kept-build-dirs

	// Timeout and MaxSilentTime apply to a build that sets none ("": no
	// limit); a build may ask for a shorter one, never a longer one.
	Timeout       string // default-timeout
	MaxSilentTime string // default-max-silent-time

	// DefaultProperties (NAME=VALUE) are scope properties every build
	// gets unless it sets the same name; MaxProperties cap what a build
	// may set: a build's value of a name listed there must not exceed it,
	// and a build that sets none gets the default, else the cap.
	DefaultProperties []string // default-properties
	MaxProperties     []string // max-properties
}

func defaultOperations() Operations {
	return Operations{DefaultProperties: []string{}, MaxProperties: []string{}}
}

func init() {
	keys = append(keys,
		key{"keep-history", `age after which finished builds' records are removed, like "90d" (empty: forever)`,
			func(c *Config) any { return &c.Ops.KeepHistory }},
		key{"keep-logs", `age after which build logs are removed, like "30d" (empty: with their record)`,
			func(c *Config) any { return &c.Ops.KeepLogs }},
		key{"keep-build-dirs", `age after which build directories kept by --keep-failed are removed (empty: 7d)`,
			func(c *Config) any { return &c.Ops.KeepDirs }},
		key{"kept-build-dirs", `absolute path of the directory that holds kept build directories (empty: <state-dir>-kept)`,
			func(c *Config) any { return &c.Ops.KeptRoot }},
		key{"default-timeout", `time limit of a build that sets none, and the longest one may set (empty: none)`,
			func(c *Config) any { return &c.Ops.Timeout }},
		key{"default-max-silent-time", `silence after which a build is killed, for builds that set none, and the longest one may set (empty: none)`,
			func(c *Config) any { return &c.Ops.MaxSilentTime }},
		key{"default-properties", "systemd scope properties (NAME=VALUE) of a build that does not set them",
			func(c *Config) any { return &c.Ops.DefaultProperties }},
		key{"max-properties", "the largest value of a scope property (NAME=VALUE) a build may ask for",
			func(c *Config) any { return &c.Ops.MaxProperties }},
	)
}

// DefaultKeepDirs is how long a kept build directory stays when
// keep-build-dirs is not set.
const DefaultKeepDirs = 7 * 24 * time.Hour

// Ages returns keep-history, keep-logs and keep-build-dirs as durations,
// 0 for "keep forever". The configuration must have passed Validate.
func (o *Operations) Ages() (history, logs, dirs time.Duration) {
	history, _ = ParseAge(o.KeepHistory)
	logs, _ = ParseAge(o.KeepLogs)
	if dirs, _ = ParseAge(o.KeepDirs); dirs == 0 {
		dirs = DefaultKeepDirs
	}
	return history, logs, dirs
}

// KeptRoot is the directory that holds kept build directories.
func (c *Config) KeptRoot() string {
	if c.Ops.KeptRoot != "" {
		return c.Ops.KeptRoot
	}
	return c.StateDir + "-kept"
}

// Limits returns default-timeout and default-max-silent-time, 0 for none. The
// configuration must have passed Validate.
func (o *Operations) Limits() (timeout, silent time.Duration) {
	timeout, _ = ParseAge(o.Timeout)
	silent, _ = ParseAge(o.MaxSilentTime)
	return timeout, silent
}

// ParseAge reads an age or time span in systemd's syntax, as the CLI's
// --timeout takes it ("30d", "2w", "36h", "90min", "1h 30min"; a bare
// number is seconds); "" is 0.
func ParseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := timespan.Parse(s)
	if err != nil {
		return 0, fmt.Errorf("age %w", err)
	}
	return d, nil
}

// operationsErrors checks the operations keys.
func (c *Config) operationsErrors() []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, errorf(ErrInvalidValue, "config: "+format, a...))
	}
	o := &c.Ops
	for _, a := range []struct{ key, v string }{
		{"keep-history", o.KeepHistory}, {"keep-logs", o.KeepLogs}, {"keep-build-dirs", o.KeepDirs},
		{"default-timeout", o.Timeout}, {"default-max-silent-time", o.MaxSilentTime},
	} {
		if _, err := ParseAge(a.v); err != nil {
			bad("%s = %q: %v", a.key, a.v, err)
		}
	}
	if o.KeptRoot != "" {
		if rule := pathRule(o.KeptRoot); rule != "" {
			bad("kept-build-dirs = %q: %s", o.KeptRoot, rule)
		}
	}
	for _, l := range []struct {
		key   string
		props []string
	}{{"default-properties", o.DefaultProperties}, {"max-properties", o.MaxProperties}} {
		for _, p := range l.props {
			if rule := propertyRule(p); rule != "" {
				bad("%s entry %q: %s", l.key, p, rule)
			}
		}
	}
	return errs
}

// propertyRule says what is wrong with a scope property from the
// configuration, or "".
func propertyRule(p string) string {
	if name, _, ok := strings.Cut(p, "="); !ok || name == "" {
		return "want NAME=VALUE, a systemd scope property"
	}
	return ""
}
