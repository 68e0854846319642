//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
)

var nobody = &syscall.Credential{Uid: 65534, Gid: 65534}

// Socket activation from cold: the first CLI call starts the daemon.
func TestColdStart(t *testing.T) {
	systemctl(t, "stop", "sdbuild.service")
	if s := systemctl(t, "is-active", "sdbuild.service"); s != "inactive" {
		t.Fatalf("sdbuild.service is %q before the first call, want inactive", s)
	}
	r := sdbuild(t, nil, "status")
	if r.code != 0 || !strings.Contains(r.stdout, "2 of 2 slots free") {
		t.Fatalf("status: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if s := systemctl(t, "is-active", "sdbuild.service"); s != "active" {
		t.Errorf("sdbuild.service is %q after the first call, want active", s)
	}
	if s := systemctl(t, "show", "-p", "StatusText", "--value", "sdbuild.service"); s != "0 running, 0 queued, 2 slots free" {
		t.Errorf("sd_notify status = %q", s)
	}
}

// A running build is its own delegated scope in sdbuild.slice; its output
// is in the journal under its unit.
func TestBuildIsAScope(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "go")
	r := sdbuild(t, nil, runArgs([]string{"--detach", "--name", "scope-test", "-i", filepath.Dir(marker) + ":/marker"},
		`echo "line one"; echo "line two" >&2; while [ ! -e /marker/go ]; do sleep 0.05; done; echo done`)...)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" {
		t.Fatalf("run --detach: %d %q %q", r.code, r.stdout, r.stderr)
	}
	unit := "sdbuild-" + id + ".scope"
	waitFor(t, "the build's scope", func() bool { return systemctl(t, "is-active", unit) == "active" })
	props := systemctl(t, "show", "-p", "Delegate,Slice,CollectMode,ControlGroup,Description", unit)
	for _, want := range []string{"Delegate=yes", "Slice=sdbuild.slice", "CollectMode=inactive-or-failed",
		"ControlGroup=/sdbuild.slice/" + unit, "Description=sdbuild build " + id + " (scope-test)"} {
		if !strings.Contains(props, want) {
			t.Errorf("systemctl show %s lacks %q:\n%s", unit, want, props)
		}
	}
	// The builder's loop runs sleep 0.05 over and over: between two, no
	// sleep is in the scope, so look until one is.
	var status string
	waitFor(t, "systemctl status to show the build's processes", func() bool {
		status = systemctl(t, "status", "--no-pager", unit)
		return strings.Contains(status, "sdbuild-sandbox-init") && strings.Contains(status, "sleep")
	})
	os.WriteFile(marker, nil, 0o644) // the build can see it: its directory is an input
	r = sdbuild(t, nil, "logs", "-f", id)
	if r.stdout != "line one\nline two\ndone\n" {
		t.Errorf("logs -f = %q", r.stdout)
	}
	// The log ends as the build does, a moment before its record is final.
	var b *api.Build
	waitFor(t, "the build's final record", func() bool { b = show(t, id); return b.Status.Finished() })
	if b.Status != api.StatusSucceeded || b.Unit != unit || b.CPUUsec == 0 {
		t.Errorf("show = %+v, want succeeded in %s with CPU time measured", b, unit)
	}
	waitGone(t, unit, func() string { return systemctl(t, "is-active", unit) })
	exec.Command("journalctl", "--sync").Run()
	for _, args := range [][]string{{"-u", unit}, {"SDBUILD_ID=" + id}} {
		out, _ := exec.Command("journalctl", append([]string{"-o", "cat", "--no-pager"}, args...)...).Output()
		for _, line := range []string{"line one", "line two", "done"} {
			if !strings.Contains(string(out), line+"\n") {
				t.Errorf("journalctl %s lacks %q:\n%s", args, line, out)
			}
		}
	}
}

func TestRunStatusAndOutput(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "result")
	r := sdbuild(t, nil, runArgs([]string{"-o", dst}, `echo hi; echo hi > $out/x`)...)
	if r.code != 0 || r.stdout != "hi\n" {
		t.Fatalf("run: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "x")); string(b) != "hi\n" {
		t.Errorf("output x = %q", b)
	}
	r = sdbuild(t, nil, runArgs(nil, `exit 7`)...)
	if r.code != 7 || !strings.Contains(r.stderr, "builder exited with status 7") {
		t.Errorf("run exit 7: %d %q", r.code, r.stderr)
	}
	r = sdbuild(t, nil, runArgs([]string{"--timeout", "300ms"}, `sleep 100`)...)
	if r.code != 124 || !strings.Contains(r.stderr, "timeout of 300ms reached") {
		t.Errorf("run --timeout: %d %q", r.code, r.stderr)
	}
	r = sdbuild(t, nil, runArgs([]string{"--feature", "bogus"}, `true`)...)
	if r.code != 125 || !strings.Contains(r.stderr, `feature "bogus": unknown feature`) {
		t.Errorf("run --feature bogus: %d %q", r.code, r.stderr)
	}
	r = sdbuild(t, nil, runArgs([]string{"-p", "MemoryMax=lots"}, `true`)...)
	if r.code != 125 || !strings.Contains(r.stderr, "MemoryMax") {
		t.Errorf("run -p MemoryMax=lots: %d %q", r.code, r.stderr)
	}
}

func TestCancel(t *testing.T) {
	r := sdbuild(t, nil, runArgs([]string{"--detach"}, `sleep 1000 & sleep 1000`)...)
	id := strings.TrimSpace(r.stdout)
	unit := "sdbuild-" + id + ".scope"
	waitFor(t, "the build's scope", func() bool { return systemctl(t, "is-active", unit) == "active" })
	waitFor(t, "the build's processes", func() bool { return len(idsInUse(t)) >= 2 })
	r = sdbuild(t, nil, "cancel", id)
	if r.code != 0 || r.stdout != "build "+id+" cancelled\n" {
		t.Errorf("cancel: %d %q %q", r.code, r.stdout, r.stderr)
	}
	waitGone(t, unit, func() string { return systemctl(t, "is-active", unit) })
	if p := idsInUse(t); len(p) != 0 {
		t.Errorf("processes with the build's ids after cancel: %q", p)
	}
}

// Ctrl-C on a client that follows its build cancels the build: the
// client says so and exits 130, and the build's record says cancelled.
func TestInterruptCancels(t *testing.T) {
	// Whatever fails, no build of this test is left holding a slot for the
	// tests after it: the timeout ends it should the client not, and a
	// failed test cancels it (this runs after startCLI's kill and wait).
	var stderr bytes.Buffer
	t.Cleanup(func() {
		if m := regexp.MustCompile(`build ([0-9a-f]+) running on slot`).FindStringSubmatch(stderr.String()); m != nil && t.Failed() {
			sdbuild(t, nil, "cancel", m[1])
		}
	})
	cmd, _ := startCLI(t, "started\n", &stderr, runArgs([]string{"--timeout", "60s"}, `echo started; sleep 1000`)...)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("client after SIGINT: %v, want exit status 130; stderr:\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`sdbuild: cancelling build ([0-9a-f]+)\n`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("the client did not say it cancelled the build; stderr:\n%s", stderr.String())
	}
	if b := show(t, m[1]); b.Status != api.StatusCancelled {
		t.Errorf("build %s after its client's SIGINT: %s, want cancelled", m[1], b.Status)
	}
}

// Six builds on two slots: never more than two at once, the others wait
// in order and are told their place.
func TestQueue(t *testing.T) {
	const n = 6
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = sdbuild(t, nil, runArgs([]string{"--name", "queue-" + strconv.Itoa(i)}, `sleep 0.3`)...)
		}()
	}
	wg.Wait()
	waited := 0
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("build %d: %d %q", i, r.code, r.stderr)
		}
		if strings.Contains(r.stderr, "waiting for a UID slot (position ") {
			waited++
		}
	}
	if waited < n-testSlots {
		t.Errorf("%d builds reported waiting for a slot, want at least %d", waited, n-testSlots)
	}
	r := sdbuild(t, nil, "list", "--json", "--name", "queue-", "--limit", "6")
	var bs []api.Build
	if err := json.Unmarshal([]byte(r.stdout), &bs); err != nil || len(bs) != n {
		t.Fatalf("list: %v %q", err, r.stdout)
	}
	// First come, first served: in the order they were queued, builds
	// started in order too.
	byCreation := slices.Clone(bs)
	sort.Slice(byCreation, func(i, j int) bool { return byCreation[i].Created.Before(byCreation[j].Created) })
	for i := 1; i < len(byCreation); i++ {
		if byCreation[i].Started.Before(byCreation[i-1].Started) {
			t.Errorf("build %s, queued after %s, started before it", byCreation[i].ID, byCreation[i-1].ID)
		}
	}
	// At no moment more than testSlots builds ran.
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, b := range bs {
		edges = append(edges, edge{b.Started, 1}, edge{b.Finished, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].delta < edges[j].delta
		}
		return edges[i].at.Before(edges[j].at)
	})
	running, most := 0, 0
	for _, e := range edges {
		running += e.delta
		most = max(most, running)
	}
	if most > testSlots {
		t.Errorf("%d builds ran at once on %d slots", most, testSlots)
	}
}

func TestRefusedUser(t *testing.T) {
	daemonUser := &syscall.Credential{Uid: 1, Gid: 1} // "daemon", not in allowed-users
	r := sdbuild(t, daemonUser, runArgs(nil, `true`)...)
	want := "user daemon is not allowed to submit builds (allowed-users = root nobody)"
	if r.code != 125 || !strings.Contains(r.stderr, want) {
		t.Errorf("run as daemon: %d %q, want %q", r.code, r.stderr, want)
	}
}

// Paths are checked with the client's credentials.
func TestClientCredentials(t *testing.T) {
	secret := t.TempDir() // 0700 root
	r := sdbuild(t, nobody, runArgs([]string{"-i", secret + ":/secret"}, `true`)...)
	if r.code != 125 || !strings.Contains(r.stderr, "user nobody cannot read it") {
		t.Errorf("input %s as nobody: %d %q", secret, r.code, r.stderr)
	}
	r = sdbuild(t, nobody, runArgs([]string{"-o", filepath.Join(secret, "result")}, `true`)...)
	if r.code != 125 || !strings.Contains(r.stderr, "user nobody cannot create entries in "+secret) {
		t.Errorf("output in %s as nobody: %d %q", secret, r.code, r.stderr)
	}
	// nobody's own build runs, and root's builds are not nobody's to see.
	r = sdbuild(t, nobody, runArgs(nil, `true`)...)
	if r.code != 0 {
		t.Errorf("nobody's build: %d %q", r.code, r.stderr)
	}
	r = sdbuild(t, nobody, "list", "--json", "--limit", "-1")
	var bs []api.Build
	json.Unmarshal([]byte(r.stdout), &bs)
	for _, b := range bs {
		if b.UID != 65534 {
			t.Errorf("nobody sees build %s of uid %d", b.ID, b.UID)
		}
	}
	if len(bs) == 0 {
		t.Errorf("nobody sees none of its own builds: %q %q", r.stdout, r.stderr)
	}
}

// kill -9 of the daemon mid-build: no process of the build survives, and
// the next start records the build as interrupted.
func TestDaemonKilledMidBuild(t *testing.T) {
	r := sdbuild(t, nil, runArgs([]string{"--detach"}, `sleep 1000 & sleep 1000`)...)
	id := strings.TrimSpace(r.stdout)
	unit := "sdbuild-" + id + ".scope"
	waitFor(t, "the build's scope", func() bool { return systemctl(t, "is-active", unit) == "active" })
	waitFor(t, "the build's processes", func() bool { return len(idsInUse(t)) >= 2 })
	killMainPID(t, systemctl(t, "show", "-p", "MainPID", "--value", "sdbuild.service"))
	waitFor(t, "the build's processes to die", func() bool { return len(idsInUse(t)) == 0 })
	b := show(t, id) // starts the daemon again through the socket
	if b.Status != api.StatusInterrupted {
		t.Errorf("after kill -9 and restart, build %s is %s, want interrupted", id, b.Status)
	}
	// Recovery stops leftover scopes through systemd and waits for it.
	if s := systemctl(t, "is-active", unit); s != "inactive" {
		t.Errorf("scope %s %s after restart, want inactive", unit, s)
	}
	// Its slot is usable again.
	if r := sdbuild(t, nil, runArgs(nil, `true`)...); r.code != 0 {
		t.Errorf("build after restart: %d %q", r.code, r.stderr)
	}
}

// systemctl stop: the daemon kills its running builds, records them as
// interrupted, frees their slots; the socket starts it again.
func TestStopInterruptsBuilds(t *testing.T) {
	r := sdbuild(t, nil, runArgs([]string{"--detach"}, `sleep 1000`)...)
	id := strings.TrimSpace(r.stdout)
	unit := "sdbuild-" + id + ".scope"
	waitFor(t, "the build's scope", func() bool { return systemctl(t, "is-active", unit) == "active" })
	waitFor(t, "the build's processes", func() bool { return len(idsInUse(t)) >= 1 })
	if out, err := exec.Command("systemctl", "stop", "sdbuild.service").CombinedOutput(); err != nil {
		t.Fatalf("systemctl stop: %v %s", err, out)
	}
	if p := idsInUse(t); len(p) != 0 {
		t.Errorf("processes of the build after the daemon stopped: %q", p)
	}
	b := show(t, id)
	if b.Status != api.StatusInterrupted || !strings.Contains(b.Error, "sdbuildd stopped") {
		t.Errorf("after systemctl stop, build %s is %s (%q), want interrupted", id, b.Status, b.Error)
	}
	r = sdbuild(t, nil, "status")
	if !strings.Contains(r.stdout, "2 of 2 slots free") {
		t.Errorf("status after restart: %q %q", r.stdout, r.stderr)
	}
}
