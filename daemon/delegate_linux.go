package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Leaves of a systemd-cgroup build's scope. cgroup v2 lets only leaves
// hold processes once controllers are enabled below a cgroup, so sandbox
// init and the build sit side by side: init in a root-owned leaf, the build
// in a leaf of its own that it owns and may subdivide.
const (
	initLeaf  = "sdbuild-init"
	buildLeaf = "build"
)

var delegateFiles struct {
	once  sync.Once
	names []string
	err   error
}

// delegatable lists the files the kernel says a delegated cgroup's owner
// must own (/sys/kernel/cgroup/delegate): cgroup.procs, cgroup.threads,
// cgroup.subtree_control, ... Limit files such as memory.max are not in it
// and stay root's, so a build cannot lift its own limits.
func delegatable() ([]string, error) {
	delegateFiles.once.Do(func() {
		b, err := os.ReadFile("/sys/kernel/cgroup/delegate")
		if err != nil {
			delegateFiles.err = fmt.Errorf("cgroup delegation not supported by this kernel (/sys/kernel/cgroup/delegate): %w", err)
			return
		}
		delegateFiles.names = strings.Fields(string(b))
	})
	return delegateFiles.names, delegateFiles.err
}

// delegate splits the scope at scopeDir into init's leaf (moving init
// there) and the build's leaf, enables the scope's controllers for them,
// and, with chown, gives the build's leaf to hostID. It returns the build
// leaf's directory.
func delegate(scopeDir string, initPID int, hostID uint32, chown bool) (string, error) {
	names, err := delegatable()
	if err != nil {
		return "", err
	}
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
	if !chown {
		return buildDir, nil
	}
	// Nothing in the leaf is the build's yet (it has not started), but
	// work from the directory's fd and never follow a link all the same.
	fd, err := unix.Open(buildDir, unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("delegate cgroup %s: %w", buildDir, err)
	}
	defer unix.Close(fd)
	if err := unix.Fchown(fd, int(hostID), int(hostID)); err != nil {
		return "", fmt.Errorf("delegate cgroup %s: chown to %d: %w", buildDir, hostID, err)
	}
	for _, n := range names {
		err := unix.Fchownat(fd, n, int(hostID), int(hostID), unix.AT_SYMLINK_NOFOLLOW)
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return "", fmt.Errorf("delegate cgroup %s: chown %s to %d: %w", buildDir, n, hostID, err)
		}
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
