package buildlog

import (
	"fmt"
	"path/filepath"
)

// maxIDLen keeps sdbuild-<id>.scope well inside systemd's 255-byte unit
// names.
const maxIDLen = 128

// checkID accepts ids that are safe as a file name and inside a unit name:
// ASCII letters, digits, '_' and '-' (build.NewID makes 12 hex digits). No
// '/' or '.', so <dir>/<id>.log can never leave dir.
func checkID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("build id %q: must be 1-%d characters: %w", id, maxIDLen, ErrInvalidID)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("build id %q: only letters, digits, '_' and '-' are allowed: %w", id, ErrInvalidID)
		}
	}
	return nil
}

// logPath is where the log of build id lives in dir.
func logPath(dir, id string) string {
	return filepath.Join(dir, id+".log")
}
