package sandbox

import (
	"fmt"
	"path"
	"strings"
)

// Action makes the builder a remote-execution action (the runner service):
// directories of a build directory that sdbuild shares with a worker are
// bound writable into the sandbox at their host paths, the builder starts
// in one of them with exactly the environment the spec gives, and its
// stderr comes apart from its stdout (Process.Stderr).
type Action struct {
	// Base is the shared build directory on the host, from sdbuild's
	// configuration; Base itself is never bound.
	Base string `json:"base"`
	// Binds are directories below Base (clean, relative) that the
	// builder may see: the action's input root and temporary directory.
	// Init resolves them beneath Base without following a symlink, so a
	// worker's request cannot make it bind anything else.
	Binds []string `json:"binds"`
	// WorkDir is the builder's working directory, a sandbox path at or
	// below one of the binds.
	WorkDir string `json:"work_dir"`
}

// BindPath is where the bind rel appears in the sandbox: at its host
// path, so that absolute paths a worker gives an action (TMPDIR, say)
// mean the same inside.
func (a *Action) BindPath(rel string) string { return path.Join(a.Base, rel) }

// CheckActionBase checks a shared build directory: its directories are
// bound at their host paths, so it must not overlap a path the sandbox
// has of its own (/tmp, /proc, ...).
func CheckActionBase(base string) error {
	if !path.IsAbs(base) || path.Clean(base) != base || base == "/" {
		return fmt.Errorf("action build directory %q: must be absolute, clean and not /", base)
	}
	for _, r := range reserved {
		if base == r || strings.HasPrefix(base, r+"/") || strings.HasPrefix(r, base+"/") {
			return fmt.Errorf("action build directory %s: overlaps %s, which every sandbox has of its own; use a directory elsewhere (/var/lib/...)", base, r)
		}
	}
	return nil
}

func (a *Action) validate() error {
	if err := CheckActionBase(a.Base); err != nil {
		return err
	}
	if len(a.Binds) == 0 {
		return fmt.Errorf("action: no directory to bind")
	}
	within := false
	for _, b := range a.Binds {
		if err := CheckRelative(b); err != nil {
			return fmt.Errorf("action directory: %w", err)
		}
		p := a.BindPath(b)
		if a.WorkDir == p || strings.HasPrefix(a.WorkDir, p+"/") {
			within = true
		}
	}
	if !within || path.Clean(a.WorkDir) != a.WorkDir {
		return fmt.Errorf("action working directory %q: must be clean and at or below a bound directory", a.WorkDir)
	}
	return nil
}

// CheckRelative checks that p is a clean relative path that stays where
// it starts: no leading /, no "..", no "." but p itself.
func CheckRelative(p string) error {
	switch {
	case p == "" || p == ".":
		return nil
	case path.IsAbs(p):
		return fmt.Errorf("path %q: must be relative", p)
	case path.Clean(p) != p:
		return fmt.Errorf("path %q: must be clean (no trailing /, //, . or ..): use %q", p, path.Clean(p))
	case p == ".." || strings.HasPrefix(p, "../"):
		return fmt.Errorf("path %q: leaves the directory it is relative to", p)
	}
	return nil
}
