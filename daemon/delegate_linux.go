package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Leaves of a systemd-cgroup build's scope. cgroup v2 lets only leaves
// hold processes once controllers are enabled below a cgroup, so sandbox
// init and the build sit side by side: init in a root-owned leaf, the build
// in a leaf of its own that it owns and may subdivide.
const (
	initLeaf  = "sdbuild-init"
	buildLeaf = "build"
)

// delegate splits the scope at scopeDir into init's leaf (moving init
// there) and the build's leaf, and enables the scope's controllers for
// them. It returns the build leaf's directory, which sandbox init gives to
// the build (sandbox.DelegateFiles) before the builder starts in it.
func delegate(scopeDir string, initPID int) (string, error) {
	initDir, buildDir := filepath.Join(scopeDir, initLeaf), filepath.Join(scopeDir, buildLeaf)
	for _, d := range []string{initDir, buildDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", fmt.Errorf("delegate cgroup: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(initDir, "cgroup.procs"), []byte(strconv.Itoa(initPID)), 0); err != nil {
		return "", fmt.Errorf("delegate cgroup: move sandbox init %d to %s: %w", initPID, initDir, err)
	}
	if err := enableControllers(scopeDir); err != nil {
		return "", err
	}
	return buildDir, nil
}

// enableControllers makes every controller the scope has available to its
// leaves, so that the build can enable them further down.
func enableControllers(scopeDir string) error {
	b, err := os.ReadFile(filepath.Join(scopeDir, "cgroup.controllers"))
	if err != nil {
		return fmt.Errorf("delegate cgroup %s: %w", scopeDir, err)
	}
	var enable []string
	for _, c := range strings.Fields(string(b)) {
		enable = append(enable, "+"+c)
	}
	if len(enable) == 0 {
		return nil
	}
	if err := os.WriteFile(filepath.Join(scopeDir, "cgroup.subtree_control"), []byte(strings.Join(enable, " ")), 0); err != nil {
		return fmt.Errorf("delegate cgroup %s: enable %s: %w", scopeDir, enable, err)
	}
	return nil
}
