package daemon

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
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
// the build (cgroup2.DelegateFiles) before the builder starts in it.
func delegate(scopeDir string, initPID int) (string, error) {
	initDir, buildDir := filepath.Join(scopeDir, initLeaf), filepath.Join(scopeDir, buildLeaf)
	for _, d := range []string{initDir, buildDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", fmt.Errorf("delegate cgroup: %w", err)
		}
	}
	if err := cgroup2.MoveDir(initDir, initPID); err != nil {
		return "", fmt.Errorf("delegate cgroup: move sandbox init: %w", err)
	}
	if err := cgroup2.EnableControllersDir(scopeDir); err != nil {
		return "", fmt.Errorf("delegate cgroup: %w", err)
	}
	return buildDir, nil
}
