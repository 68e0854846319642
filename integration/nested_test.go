//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/sdbuild/sdbuild/api"
)

var nestedFeatures = []string{"--feature", "uid-range", "--feature", "systemd-cgroup"}

func requireNspawn(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("systemd-nspawn"); err != nil {
		t.Fatalf("systemd-nspawn is needed (Debian package systemd-container; contrib/install-deps installs it): %v", err)
	}
}

// The example: systemd-nspawn runs inside a build, as root.
func TestNspawnInBuild(t *testing.T) {
	requireNspawn(t)
	r := sdbuild(t, nil, runArgs(nestedFeatures,
		`systemd-nspawn -D / --volatile=yes --register=no --keep-unit -q --pipe -- id`)...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "uid=0") || !strings.Contains(r.stdout, " gid=0") {
		t.Fatalf("nspawn in a build: %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// The build owns its own leaf of the scope and nothing above it.
func TestCgroupDelegation(t *testing.T) {
	r := sdbuild(t, nil, runArgs(append([]string{"--detach"}, nestedFeatures...),
		`stat -c '%u %g' /sys/fs/cgroup /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/cgroup.subtree_control;
		 (echo 1 > /sys/fs/cgroup/cgroup.max.depth) 2>&1 | sed 's/.*: //';
		 mkdir /sys/fs/cgroup/payload && echo $$ > /sys/fs/cgroup/payload/cgroup.procs && echo moved;
		 sleep 1000`)...)
	id := strings.TrimSpace(r.stdout)
	unit := "sdbuild-" + id + ".scope"
	defer sdbuild(t, nil, "cancel", id)
	scopeDir := filepath.Join("/sys/fs/cgroup/sdbuild.slice", unit)
	waitFor(t, "the build's leaf cgroup", func() bool {
		_, err := os.Stat(filepath.Join(scopeDir, "build", "payload"))
		return err == nil
	})
	for path, want := range map[string]uint32{
		scopeDir:                                          0,
		filepath.Join(scopeDir, "cgroup.procs"):           0,
		filepath.Join(scopeDir, "sdbuild-init"):           0,
		filepath.Join(scopeDir, "build"):                  testStartID,
		filepath.Join(scopeDir, "build/cgroup.procs"):     testStartID,
		filepath.Join(scopeDir, "build/cgroup.max.depth"): 0, // not a delegation file: stays root's
	} {
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			t.Errorf("stat %s: %v", path, err)
			continue
		}
		if st.Uid != want {
			t.Errorf("%s is owned by %d, want %d", path, st.Uid, want)
		}
	}
	out := logsSoFar(t, id)
	for _, want := range []string{"0 0\n0 0\n0 0\n", "Permission denied\n", "moved\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("build output %q lacks %q", out, want)
		}
	}
}

// logsSoFar is a running build's output until now.
func logsSoFar(t *testing.T, id string) string {
	t.Helper()
	var out string
	waitFor(t, "the build's output", func() bool {
		out = sdbuild(t, nil, "logs", id).stdout
		return strings.Contains(out, "moved") || strings.Contains(out, "File exists")
	})
	return out
}

// Limits the host cannot enforce are refused, never pretended.
func TestUnenforceableLimits(t *testing.T) {
	controllers, _ := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
	if strings.Contains(string(controllers), "memory") {
		t.Skipf("this host's cgroup2 has the memory controller (%q): nothing to refuse", controllers)
	}
	r := sdbuild(t, nil, runArgs([]string{"-p", "MemoryMax=1G"}, `true`)...)
	if r.code != 125 || !strings.Contains(r.stderr, "has no memory controller") || !strings.Contains(r.stderr, "--allow-unenforced-limits") {
		t.Errorf("-p MemoryMax=1G: %d %q", r.code, r.stderr)
	}
	r = sdbuild(t, nil, runArgs([]string{"-p", "MemoryMax=1G", "--allow-unenforced-limits"}, `true`)...)
	if r.code != 0 {
		t.Errorf("-p MemoryMax=1G --allow-unenforced-limits: %d %q", r.code, r.stderr)
	}
}

func TestFeatureRules(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--feature", "systemd-cgroup"}, "feature systemd-cgroup needs feature uid-range"},
	}
	for _, tt := range tests {
		r := sdbuild(t, nil, runArgs(tt.args, `true`)...)
		if r.code != 125 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("run %q: %d %q, want %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

// Cancel while a nested container runs: nothing of it survives.
func TestCancelNested(t *testing.T) {
	requireNspawn(t)
	r := sdbuild(t, nil, runArgs(append([]string{"--detach"}, nestedFeatures...),
		`systemd-nspawn -D / --volatile=yes --register=no --keep-unit -q --pipe -- /bin/sh -c 'echo inside; sleep 1000 & sleep 1000'`)...)
	id := strings.TrimSpace(r.stdout)
	waitFor(t, "the nested container", func() bool { return strings.Contains(sdbuild(t, nil, "logs", id).stdout, "inside") })
	if p := idsInUse(t); len(p) < 4 { // sh, systemd-nspawn, the container's sh and sleeps
		t.Fatalf("expected the nested container's processes to run, found %q", p)
	}
	if r := sdbuild(t, nil, "cancel", id); r.code != 0 {
		t.Fatalf("cancel: %d %q", r.code, r.stderr)
	}
	if p := idsInUse(t); len(p) != 0 {
		t.Errorf("processes left after cancelling a nested build: %q", p)
	}
	unit := fmt.Sprintf("sdbuild-%s.scope", id)
	waitFor(t, "the scope to go", func() bool {
		_, err := os.Stat(filepath.Join("/sys/fs/cgroup/sdbuild.slice", unit))
		return os.IsNotExist(err)
	})
}

// Two nested builds at once run on different slots and see only their
// own processes.
func TestTwoNestedBuilds(t *testing.T) {
	requireNspawn(t)
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = sdbuild(t, nil, runArgs(append([]string{"--name", fmt.Sprintf("nested-pair-%d", i)}, nestedFeatures...),
				`systemd-nspawn -D / --volatile=yes --register=no --keep-unit -q --pipe -- /bin/sh -c 'sleep 0.5; echo inside'
				 ls /proc | grep -cE '^[0-9]+$'`)...)
		}()
	}
	wg.Wait()
	for i, r := range results {
		lines := strings.Fields(r.stdout)
		if r.code != 0 || len(lines) != 2 || lines[0] != "inside" {
			t.Fatalf("nested build %d: %d %q %q", i, r.code, r.stdout, r.stderr)
		}
		// Its own pid namespace: the shell, ls and grep, nothing of the other build.
		if n, _ := strconv.Atoi(lines[1]); n > 4 {
			t.Errorf("nested build %d sees %d processes, want only its own", i, n)
		}
	}
	r := sdbuild(t, nil, "list", "--json", "--name", "nested-pair-", "--limit", "2")
	var bs []api.Build
	if err := json.Unmarshal([]byte(r.stdout), &bs); err != nil || len(bs) != 2 {
		t.Fatalf("list: %v %q", err, r.stdout)
	}
	if bs[0].Slot == bs[1].Slot {
		t.Errorf("both nested builds ran on slot %d", bs[0].Slot)
	}
	if bs[0].Started.After(bs[1].Finished) || bs[1].Started.After(bs[0].Finished) {
		t.Errorf("the two nested builds did not overlap: %v-%v and %v-%v", bs[0].Started, bs[0].Finished, bs[1].Started, bs[1].Finished)
	}
}
