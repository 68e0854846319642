package config

import (
	"path/filepath"

	"github.com/sdbuild/sdbuild/slots"
)

// SlotOptions describes the UID slot pool this configuration defines, with
// its lock files in <state-dir>/userpool. A user's daemon without
// subordinate ids has shared slots: every build is the user's own id.
func (c *Config) SlotOptions() slots.Options {
	return slots.Options{
		Dir:         filepath.Join(c.StateDir, "userpool"),
		StartID:     c.StartID,
		IDsPerBuild: c.IDsPerBuild,
		Slots:       c.Slots(),
		StartGID:    c.StartGID(),
		Shared:      c.Rootless != nil && !c.Rootless.HasSubIDs(),
	}
}
