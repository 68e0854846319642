package config

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
)

// Validate checks every rule and reports all broken ones together; each
// error names the key, the value and the rule.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, errorf(ErrInvalidValue, "config: "+format, a...))
	}

	for _, p := range []struct{ key, path string }{
		{"state-dir", c.StateDir},
		{"socket", c.Socket},
	} {
		if rule := pathRule(p.path); rule != "" {
			bad("%s = %q: %s", p.key, p.path, rule)
		}
	}
	if c.MaxJobs < 1 {
		bad("max-jobs = %d: must be at least 1", c.MaxJobs)
	}
	for _, l := range []struct {
		key   string
		users []string
	}{
		{"allowed-users", c.AllowedUsers},
		{"trusted-users", c.TrustedUsers},
	} {
		for _, u := range l.users {
			if rule := userRule(u); rule != "" {
				bad("%s entry %q: %s", l.key, u, rule)
			}
		}
	}
	for _, sp := range c.SandboxPaths {
		if rule := sandboxPathRule(sp); rule != "" {
			bad("sandbox-paths entry %q: %s", sp, rule)
		}
	}
	errs = append(errs, c.idRangeErrors()...)
	errs = append(errs, c.runnerErrors()...)
	errs = append(errs, c.operationsErrors()...)
	return errors.Join(errs...)
}

// idRangeErrors checks the build id range the way Nix asserts it for
// auto-allocate-uids, but with messages. Slots are carved from the range by
// division, so both ends must fall on slot boundaries.
func (c *Config) idRangeErrors() []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, errorf(ErrInvalidValue, "config: "+format, a...))
	}
	if c.IDsPerBuild == 0 {
		bad("ids-per-build = 0: must be greater than 0")
	}
	// Id 0 is root: a build must never run as it.
	if c.StartID == 0 {
		bad("start-id = 0: must be greater than 0")
	} else if c.IDsPerBuild != 0 && c.StartID%c.IDsPerBuild != 0 && c.Rootless == nil {
		// (A user's grant starts where the administrator put it.)
		bad("start-id = %d is not a multiple of ids-per-build (%d)", c.StartID, c.IDsPerBuild)
	}
	if c.IDCount == 0 {
		bad("id-count = 0: must be greater than 0")
	} else if c.IDsPerBuild != 0 && c.IDCount%c.IDsPerBuild != 0 {
		bad("id-count = %d is not a multiple of ids-per-build (%d)", c.IDCount, c.IDsPerBuild)
	}
	// 2^32-1 is (uid_t)-1, "no id" to chown(2) and setresuid(2), so the
	// last id of the range, end-1, must stay below it. uint64: the sum of
	// two uint32 would wrap.
	if end := uint64(c.StartID) + uint64(c.IDCount); end > math.MaxUint32 {
		bad("start-id + id-count = %d (start-id %d, id-count %d) exceeds %d; lower start-id or id-count",
			end, c.StartID, c.IDCount, uint64(math.MaxUint32))
	}
	return errs
}

// pathRule returns why p is not an acceptable absolute path, or "".
func pathRule(p string) string {
	if !filepath.IsAbs(p) {
		return "must be an absolute path"
	}
	if slices.Contains(strings.Split(p, "/"), "..") {
		return `must not contain ".."`
	}
	return ""
}

// userRule returns why u is not a user name, "@group" or "*", or "".
func userRule(u string) string {
	if u == "*" {
		return ""
	}
	what, name := "user", u
	if g, ok := strings.CutPrefix(u, "@"); ok {
		what, name = "group", g
	}
	if rule := nameRule(name); rule != "" {
		return fmt.Sprintf("%s name %s; want a user name, @group or *", what, rule)
	}
	return ""
}

// nameRule returns why name cannot be a user or group name, or "". It
// refuses only what no passwd or group entry can hold, plus a leading '-'
// (shadow-utils refuses it, as it reads as an option).
func nameRule(name string) string {
	switch {
	case name == "":
		return "is empty"
	case name == "." || name == "..":
		return "is a path element"
	case strings.HasPrefix(name, "-"):
		return `starts with "-"`
	case strings.ContainsFunc(name, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == ':' || r == ',' || r == '/'
	}):
		return `contains a space, control character, ":", "," or "/"`
	}
	return ""
}

// sandboxPathRule returns why sp is not "HOST[:SANDBOX]" with both absolute
// and clean, or "". Clean paths cannot climb out with "..", so the sandbox
// side stays inside the sandbox root.
func sandboxPathRule(sp string) string {
	parts := strings.Split(sp, ":")
	if len(parts) > 2 {
		return "more than one \":\"; want HOST[:SANDBOX]"
	}
	for i, p := range parts {
		side := [...]string{"host", "sandbox"}[i]
		switch {
		case !filepath.IsAbs(p):
			return fmt.Sprintf("%s path %q is not absolute", side, p)
		case filepath.Clean(p) != p:
			return fmt.Sprintf("%s path %q is not clean (want %q)", side, p, filepath.Clean(p))
		}
	}
	return ""
}
