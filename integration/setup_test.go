//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/units"
)

// The daemon under test: its own state, socket and id range (0xE3000000,
// apart from every other package's tests), 2 slots and 2 jobs so that
// queueing shows, and a small allowed-users list.
const (
	testStartID = 3808428032
	testSlots   = 2
	unitDir     = "/run/systemd/system"
)

var (
	binDir   string // sdbuild, sdbuildd and sdbuild-init built for this run
	stateDir string
	socket   = "/run/sdbuild-test/sdbuild.sock"
	// The runner service's socket and the build directory it shares with
	// the tests that play a remote-execution worker (runner_test.go):
	// not below /tmp, which every sandbox has of its own.
	runnerSocket = "/run/sdbuild-test/runner.sock"
	runnerDir    string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "integration tests need root inside a throwaway systemd: go run ./cmd/sdbuild-testbed run -- go test -tags integration ./integration/")
		return 1
	}
	if out, err := exec.Command("systemctl", "is-system-running", "--wait").Output(); err != nil && !strings.Contains(string(out), "degraded") {
		fmt.Fprintf(os.Stderr, "integration tests need a running systemd (got %q, %v); run them through sdbuild-testbed:\n  go run ./cmd/sdbuild-testbed run -- go test -tags integration ./integration/\n", out, err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "sdbuild-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	// Other users run the CLI too (allowed-users tests).
	if err := os.Chmod(tmp, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binDir, stateDir = filepath.Join(tmp, "bin"), filepath.Join(tmp, "state")
	if runnerDir, err = os.MkdirTemp("/var/tmp", "sdbuild-runner-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(runnerDir)
	for _, cmd := range []string{"sdbuild", "sdbuildd", "sdbuild-init"} {
		build := exec.Command("go", "build", "-o", filepath.Join(binDir, cmd), "../cmd/"+cmd)
		if cmd == "sdbuild-init" {
			build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build makes it
		}
		out, err := build.CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", cmd, err, out)
			return 1
		}
	}
	if err := installUnits(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer uninstallUnits()
	defer teardownRootless()
	return m.Run()
}

// installUnits installs sdbuild's own units, unchanged, plus drop-ins that
// point them at the test's socket, state and id range.
func installUnits() error {
	if _, err := units.Install(unitDir, binDir); err != nil {
		return err
	}
	dropins := map[string]string{
		"sdbuild.socket.d/test.conf":        "[Socket]\nListenStream=\nListenStream=" + socket + "\n",
		"sdbuild-runner.socket.d/test.conf": "[Socket]\nListenStream=\nListenStream=" + runnerSocket + "\n",
		"sdbuild.service.d/test.conf": fmt.Sprintf("[Service]\nEnvironment=SDBUILD_STATE_DIR=%s SDBUILD_SOCKET=%s SDBUILD_START_ID=%d SDBUILD_ID_COUNT=%d SDBUILD_MAX_JOBS=%d SDBUILD_ALLOWED_USERS=root,nobody\n"+
			"Environment=SDBUILD_RUNNER_BUILD_DIRECTORY=%s SDBUILD_RUNNER_FEATURES=uid-range\n",
			stateDir, socket, testStartID, testSlots*65536, testSlots, runnerDir),
	}
	for name, content := range dropins {
		p := filepath.Join(unitDir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	for _, args := range [][]string{{"daemon-reload"}, {"start", "sdbuild.socket", "sdbuild-runner.socket"}} {
		if out, err := exec.Command("systemctl", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("systemctl %s: %v: %s", args, err, out)
		}
	}
	return nil
}

func uninstallUnits() {
	exec.Command("systemctl", "stop", "sdbuild.socket", "sdbuild-runner.socket", "sdbuild.service").Run()
	for _, n := range append(units.Names(), "sdbuild.socket.d", "sdbuild-runner.socket.d", "sdbuild.service.d") {
		os.RemoveAll(filepath.Join(unitDir, n))
	}
	exec.Command("systemctl", "daemon-reload").Run()
}

// result is one CLI run.
type result struct {
	stdout, stderr string
	code           int
}

// sdbuild runs the CLI as root (or as cred) against the test daemon.
func sdbuild(t *testing.T, cred *syscall.Credential, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "sdbuild"), args...)
	cmd.Env = []string{"SDBUILD_SOCKET=" + socket, "PATH=/usr/bin:/bin"}
	cmd.Dir = "/"
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("sdbuild %q: %v", args, err)
	}
	return r
}

var inputs = []string{"-i", "/usr", "-i", "/bin", "-i", "/lib", "-i", "/lib64", "-e", "PATH=/usr/bin:/bin"}

// runArgs builds `run` arguments around a shell script.
func runArgs(extra []string, script string) []string {
	a := append([]string{"run"}, inputs...)
	a = append(a, extra...)
	return append(a, "--", "/bin/sh", "-c", script)
}

func show(t *testing.T, id string) *api.Build {
	t.Helper()
	r := sdbuild(t, nil, "show", "--json", id)
	var b api.Build
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil {
		t.Fatalf("show %s: %v\n%s%s", id, err, r.stdout, r.stderr)
	}
	return &b
}

// systemctl runs systemctl and returns its output.
func systemctl(t *testing.T, args ...string) string {
	t.Helper()
	out, _ := exec.Command("systemctl", args...).CombinedOutput()
	return strings.TrimSpace(string(out))
}

// idsInUse lists processes with any uid or gid (real, effective, saved or
// fs) in the test's slots, read from /proc/PID/status as unsigned numbers.
func idsInUse(t *testing.T) []string {
	t.Helper()
	return idsInRange(t, testStartID, testSlots*65536)
}

// idsInRange lists, as "PID NAME", processes with any uid or gid in
// [first, first+count).
func idsInRange(t *testing.T, first, count uint64) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue // gone meanwhile
		}
		var name string
		inRange := false
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Name:"); ok {
				name = strings.TrimSpace(v)
			}
			if !strings.HasPrefix(line, "Uid:") && !strings.HasPrefix(line, "Gid:") {
				continue
			}
			for _, f := range strings.Fields(line)[1:] {
				id, err := strconv.ParseUint(f, 10, 32)
				if err == nil && id >= first && id < first+count {
					inRange = true
				}
			}
		}
		if inRange {
			found = append(found, e.Name()+" "+name)
		}
	}
	return found
}

// waitGone waits until systemd has stopped and collected unit, whose
// is-active answer isActive returns: "inactive", neither "active" nor
// "failed" nor an error message. A build's scope goes once cgroup.kill
// emptied it, after the build's end was reported.
func waitGone(t *testing.T, unit string, isActive func() string) {
	t.Helper()
	var last string
	waitFor(t, unit+" to go", func() bool { last = isActive(); return last == "inactive" })
}

// killMainPID sends SIGKILL to a service's main pid as systemctl show
// gives it ("MainPID=N" or "N"), which must name a process: kill -9 of 0
// would hit the test's own process group.
func killMainPID(t *testing.T, show string) {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimPrefix(show, "MainPID="))
	if err != nil || pid <= 0 {
		t.Fatalf("main pid %q: not a process", show)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", pid, err)
	}
}

// waitFor polls cond (a systemd or process state change the test cannot
// subscribe to) until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
