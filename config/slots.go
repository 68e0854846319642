package config

import (
	"path/filepath"

	"github.com/sdbuild/sdbuild/slots"
)

// SlotOptions describes the UID slot pool this configuration defines, with
// its lock files in <state-dir>/userpool.
func (c *Config) SlotOptions() slots.Options {
	return slots.Options{
		Dir:         filepath.Join(c.StateDir, "userpool"),
		StartID:     c.StartID,
		IDsPerBuild: c.IDsPerBuild,
		Slots:       c.Slots(),
	}
}
