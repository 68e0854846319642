package config

import (
	"errors"
	"fmt"
)

// Sentinel errors, so callers can tell a mistake in the configuration from a
// clash with the host without matching message text.
var (
	// ErrUnknownKey: the file or an SDBUILD_ environment variable names a
	// key sdbuild does not have (usually a typo).
	ErrUnknownKey = errors.New("unknown configuration key")
	// ErrInvalidKey: the file repeats a key, or has keys that differ only
	// in case (TOML keys are case-sensitive; sdbuild matches them folded).
	ErrInvalidKey = errors.New("invalid configuration key")
	// ErrInvalidValue: a value has the wrong type or breaks a rule.
	ErrInvalidValue = errors.New("invalid configuration value")
	// ErrIDOverlap: the build id range clashes with a host user, group or
	// subordinate id range, or with ids another allocator hands out (Nix's
	// auto-allocate-uids, systemd's ranges).
	ErrIDOverlap = errors.New("id range overlaps host ids")
	// ErrMalformedIDFile: a line of /etc/passwd, /etc/group, /etc/subuid or
	// /etc/subgid cannot be parsed, or Nix's nix.conf has a value for
	// auto-allocate-uids, start-id or id-count that Nix would refuse.
	ErrMalformedIDFile = errors.New("malformed id database line")
)

// kindError carries a readable message and a sentinel, so errors.Is matches
// the sentinel without the sentinel's text cluttering the message.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// errorf formats like fmt.Errorf (so %w still wraps a cause) and tags the
// result with kind.
func errorf(kind error, format string, a ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, a...)}
}
