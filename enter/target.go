package enter

import (
	"fmt"
	"path"
)

// Target is the running build a command enters.
type Target struct {
	ID   string // the build's id, for messages and the command's SDBUILD_BUILD_ID
	Init int    // host pid of the build's sandbox init
	// Cgroup is the build's scope's cgroup, relative to the cgroup2 root,
	// as recorded when the build was placed (build.Placement.Cgroup).
	Cgroup string
}

// Options say what to run and how.
type Options struct {
	Args       []string // default /bin/sh, looked up in the build's root
	TTY        bool     // a pty of its own; without, pipes with stdout and stderr merged
	Rows, Cols uint16   // the pty's initial size; 0 for 24x80
	Term       string   // the command's TERM, as Term returns it; "" for none
}

// check refuses a target that could point the session anywhere but into
// a build's scope: an empty cgroup would put the session's cgroup at the
// hierarchy's root and take any process there for the builder.
func (t Target) check() error {
	if t.Init <= 0 {
		return fmt.Errorf("enter build %s: init pid %d: not a process", t.ID, t.Init)
	}
	if !path.IsAbs(t.Cgroup) || path.Clean(t.Cgroup) != t.Cgroup || t.Cgroup == "/" {
		return fmt.Errorf("enter build %s: scope cgroup %q: not a cgroup below the hierarchy's root", t.ID, t.Cgroup)
	}
	return nil
}
