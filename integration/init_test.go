//go:build integration

package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// scopeInits lists the executables of the sandbox inits in build id's
// scope, by pid: the processes started as init whose parent is outside
// the scope (a builder between init's fork and its exec looks like init).
func scopeInits(t *testing.T, id string) map[int]string {
	t.Helper()
	dir, err := cgroup2.Dir("/sdbuild.slice/sdbuild-" + id + ".scope")
	if err != nil {
		t.Fatal(err)
	}
	procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		t.Fatal(err)
	}
	inScope := map[string]bool{}
	for _, f := range strings.Fields(string(procs)) {
		inScope[f] = true
	}
	inits := map[int]string{}
	for f := range inScope {
		cmdline, _ := os.ReadFile("/proc/" + f + "/cmdline")
		status, _ := os.ReadFile("/proc/" + f + "/status")
		_, ppid, _ := strings.Cut(string(status), "\nPPid:\t")
		ppid, _, _ = strings.Cut(ppid, "\n")
		if argv0, _, _ := bytes.Cut(cmdline, []byte{0}); string(argv0) == "sdbuild-sandbox-init" && !inScope[ppid] {
			pid, _ := strconv.Atoi(f)
			inits[pid], _ = os.Readlink("/proc/" + f + "/exe")
		}
	}
	return inits
}

// With sdbuild-init installed beside sdbuildd, every build's init is
// sdbuild-init, not sdbuildd re-executed: a build's and a prepared
// sandbox's. sdbuild finds it beside itself too (doctor says so).
func TestInitBinary(t *testing.T) {
	want := filepath.Join(binDir, "sdbuild-init")
	id := startSleeper(t)
	inits := scopeInits(t, id)
	if len(inits) != 1 {
		t.Fatalf("build %s: inits in its scope %v, want one", id, inits)
	}
	for pid, exe := range inits {
		if exe != want {
			t.Errorf("build %s: init %d runs %q, want %q", id, pid, exe, want)
		}
	}
	var waiting []string
	waitFor(t, "a prepared sandbox", func() bool { waiting = preparedScopes(t); return len(waiting) > 0 })
	for pid, exe := range scopeInits(t, waiting[0]) {
		if exe != want {
			t.Errorf("prepared sandbox %s: init %d runs %q, want %q", waiting[0], pid, exe, want)
		}
	}
	r := sdbuild(t, nil, "doctor")
	if !strings.Contains(r.stdout, "builds start "+want+"\n") {
		t.Errorf("doctor does not say builds start %s:\n%s%s", want, r.stdout, r.stderr)
	}
}
