//go:build integration && linux

// Integration tests against a real systemd. Run them inside the throwaway
// one:
//
//	go run ./cmd/sdbuild-testbed run -- go test -tags integration ./scope/...
//
// TestReconnect restarts dbus.service and re-executes systemd, which other
// packages' tests running in the same testbed at that moment will notice.

package scope

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

const runInTestbed = "go run ./cmd/sdbuild-testbed run -- go test -tags integration ./scope/..."

// testCtx bounds each call in these tests; a hang fails the test instead of
// the whole run.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testManager(t testing.TB) *Manager {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: starting transient units is privileged")
	}
	m, err := NewManager(testCtx(t))
	if err != nil {
		t.Fatalf("no systemd reachable: %v\nthese tests need a running systemd; run them inside the testbed: %s", err, runInTestbed)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

var unitSeq atomic.Int64

// unitName returns a scope name no other test (or test process) uses.
func unitName() string {
	return fmt.Sprintf("sdbuild-it%d-%d.scope", os.Getpid(), unitSeq.Add(1))
}

// sleeper starts a child that sleeps until killed.
func sleeper(t testing.TB) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

func pid(cmd *exec.Cmd) uint32 { return uint32(cmd.Process.Pid) }

// show returns unit properties as `systemctl show` prints them.
func show(t testing.TB, unit string, props ...string) map[string]string {
	t.Helper()
	args := []string{"show", unit}
	for _, p := range props {
		args = append(args, "-p", p)
	}
	out, err := exec.Command("systemctl", args...).Output()
	if err != nil {
		t.Fatalf("systemctl %s: %v", strings.Join(args, " "), err)
	}
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			m[k] = v
		}
	}
	return m
}

// checkGone checks that the unit is unloaded and its cgroup removed.
func checkGone(t testing.TB, m *Manager, unit string) {
	t.Helper()
	if got := show(t, unit, "LoadState")["LoadState"]; got != "not-found" {
		t.Errorf("%s LoadState = %q, want not-found", unit, got)
	}
	names, err := m.List(testCtx(t), "sdbuild-*.scope")
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(names, unit) {
		t.Errorf("List(sdbuild-*.scope) = %v still holds %s", names, unit)
	}
	if _, err := os.Stat(filepath.Join("/sys/fs/cgroup/sdbuild.slice", unit)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cgroup of %s: stat = %v, want not exist", unit, err)
	}
}

// checkKilled waits for the child and checks that SIGKILL ended it.
func checkKilled(t testing.TB, cmd *exec.Cmd, want syscall.Signal) {
	t.Helper()
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child %d: Wait() = %v, want killed by %v", cmd.Process.Pid, err, want)
	}
	if ws := ee.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != want {
		t.Errorf("child %d ended with %v, want killed by %v", cmd.Process.Pid, ws, want)
	}
}

func TestStartKill(t *testing.T) {
	m := testManager(t)
	ctx := testCtx(t)
	child := sleeper(t)
	var props []Property
	for _, s := range []string{"TasksMax=100", "CPUWeight=50", "MemoryMax=1G", "RuntimeMaxSec=1h"} {
		p, err := ParseProperty(s)
		if err != nil {
			t.Fatal(err)
		}
		props = append(props, p)
	}
	name := unitName()
	sc, err := m.Start(ctx, Spec{Name: name, Slice: "sdbuild.slice", Description: "sdbuild test build", PIDs: []uint32{pid(child)}, Properties: props})
	if err != nil {
		t.Fatalf("Start(%s) = %v", name, err)
	}
	if want := "/sdbuild.slice/" + name; sc.Name != name || sc.Cgroup != want {
		t.Errorf("Start(%s) = %+v, want cgroup %s", name, sc, want)
	}
	got := show(t, name, "Delegate", "Slice", "ControlGroup", "ActiveState", "CollectMode", "TasksMax", "CPUWeight", "MemoryMax", "RuntimeMaxUSec", "Description")
	for k, want := range map[string]string{
		"Delegate":       "yes",
		"Slice":          "sdbuild.slice",
		"ControlGroup":   sc.Cgroup,
		"ActiveState":    "active",
		"CollectMode":    "inactive-or-failed",
		"TasksMax":       "100",
		"CPUWeight":      "50",
		"MemoryMax":      strconv.Itoa(1 << 30),
		"RuntimeMaxUSec": "1h",
		"Description":    "sdbuild test build",
	} {
		if got[k] != want {
			t.Errorf("systemctl show %s: %s=%q, want %q", name, k, got[k], want)
		}
	}
	procs, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", sc.Cgroup, "cgroup.procs"))
	if err != nil {
		t.Fatalf("read cgroup of %s: %v", name, err)
	}
	if !slices.Contains(strings.Fields(string(procs)), strconv.Itoa(child.Process.Pid)) {
		t.Errorf("cgroup.procs of %s = %q, want pid %d in it", sc.Cgroup, procs, child.Process.Pid)
	}
	names, err := m.List(ctx, "sdbuild-*.scope")
	if err != nil || !slices.Contains(names, name) {
		t.Errorf("List(sdbuild-*.scope) = %v, %v; want %s in it", names, err, name)
	}

	if err := m.Kill(ctx, name); err != nil {
		t.Fatalf("Kill(%s) = %v", name, err)
	}
	checkKilled(t, child, syscall.SIGKILL)
	checkGone(t, m, name)
	// Killing what is gone is not an error.
	if err := m.Kill(ctx, name); err != nil {
		t.Errorf("second Kill(%s) = %v, want nil", name, err)
	}
}

func TestStop(t *testing.T) {
	m := testManager(t)
	ctx := testCtx(t)
	child := sleeper(t)
	name := unitName()
	if _, err := m.Start(ctx, Spec{Name: name, Slice: "sdbuild.slice", PIDs: []uint32{pid(child)}}); err != nil {
		t.Fatalf("Start(%s) = %v", name, err)
	}
	if err := m.Stop(ctx, name); err != nil {
		t.Fatalf("Stop(%s) = %v", name, err)
	}
	checkKilled(t, child, syscall.SIGTERM)
	checkGone(t, m, name)
	if err := m.Stop(ctx, name); err != nil {
		t.Errorf("second Stop(%s) = %v, want nil", name, err)
	}
}

// TestStartDeadPID: systemd refuses a scope whose only process is gone, and
// nothing of it may stay loaded.
func TestStartDeadPID(t *testing.T) {
	m := testManager(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	name := unitName()
	_, err := m.Start(testCtx(t), Spec{Name: name, Slice: "sdbuild.slice", PIDs: []uint32{pid(dead)}})
	if err == nil {
		t.Fatalf("Start(%s) with dead pid %d = nil, want an error", name, dead.Process.Pid)
	}
	if !strings.Contains(err.Error(), name) {
		t.Errorf("Start error %q does not name the scope", err)
	}
	t.Logf("Start with a dead pid: %v", err)
	checkGone(t, m, name)
}

// TestNameReuse: a name is free again after a scope ends, after a scope
// fails (reset and retried), and not while another scope holds it.
func TestNameReuse(t *testing.T) {
	m := testManager(t)
	ctx := testCtx(t)
	name := unitName()

	for i := range 2 {
		child := sleeper(t)
		if _, err := m.Start(ctx, Spec{Name: name, Slice: "sdbuild.slice", PIDs: []uint32{pid(child)}}); err != nil {
			t.Fatalf("Start #%d of %s = %v", i, name, err)
		}
		if err := m.Kill(ctx, name); err != nil {
			t.Fatalf("Kill #%d of %s = %v", i, name, err)
		}
	}

	// A failed unit stays loaded unless CollectMode says otherwise; make one
	// the way an older sdbuild (or an operator) could have: a scope without
	// CollectMode whose RuntimeMaxSec runs out at once.
	victim := sleeper(t)
	startRaw(t, m, name, sddbus.PropPids(pid(victim)), sddbus.Property{Name: "RuntimeMaxUSec", Value: dbus.MakeVariant(uint64(1))})
	checkKilled(t, victim, syscall.SIGTERM)
	waitState(t, name, "failed")

	child := sleeper(t)
	sc, err := m.Start(ctx, Spec{Name: name, Slice: "sdbuild.slice", PIDs: []uint32{pid(child)}})
	if err != nil {
		t.Fatalf("Start(%s) over a failed unit = %v, want the failed unit reset and the start retried", name, err)
	}
	if got := show(t, name, "ActiveState")["ActiveState"]; got != "active" {
		t.Errorf("%s ActiveState = %q after Start over a failed unit, want active", name, got)
	}

	// While the scope lives, its name is taken.
	other := sleeper(t)
	_, err = m.Start(ctx, Spec{Name: name, Slice: "sdbuild.slice", PIDs: []uint32{pid(other)}})
	if !errors.Is(err, ErrUnitExists) {
		t.Errorf("Start(%s) while it runs = %v, want ErrUnitExists", name, err)
	}
	if got := show(t, name, "ActiveState")["ActiveState"]; got != "active" {
		t.Errorf("%s ActiveState = %q after a refused second Start, want the first still active", name, got)
	}
	procs, _ := os.ReadFile(filepath.Join("/sys/fs/cgroup", sc.Cgroup, "cgroup.procs"))
	if slices.Contains(strings.Fields(string(procs)), strconv.Itoa(other.Process.Pid)) {
		t.Errorf("refused Start moved pid %d into %s", other.Process.Pid, sc.Cgroup)
	}
	if err := m.Kill(ctx, name); err != nil {
		t.Fatal(err)
	}
	checkGone(t, m, name)
}

// startRaw starts a scope with exactly the given properties (no Delegate,
// no CollectMode) and waits for its job.
func startRaw(t testing.TB, m *Manager, name string, props ...sddbus.Property) {
	t.Helper()
	ctx := testCtx(t)
	c, err := m.connection(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 1)
	if _, err := c.StartTransientUnitContext(ctx, name, "fail", props, ch); err != nil {
		t.Fatalf("StartTransientUnit(%s) = %v", name, err)
	}
	select {
	case r := <-ch:
		if r != "done" {
			t.Fatalf("StartTransientUnit(%s) job = %s", name, r)
		}
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
}

// waitState polls until the unit's ActiveState is want; the test's deadline
// bounds it.
func waitState(t testing.TB, unit, want string) {
	t.Helper()
	ctx := testCtx(t)
	for {
		got := show(t, unit, "ActiveState")["ActiveState"]
		if got == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s ActiveState = %q, want %q", unit, got, want)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestReconnect: the Manager survives a restart of the bus (its connection
// breaks) and a re-execution of systemd.
func TestReconnect(t *testing.T) {
	m := testManager(t)
	ctx := testCtx(t)
	startKill := func(when string) {
		t.Helper()
		child := sleeper(t)
		name := unitName()
		if _, err := m.Start(ctx, Spec{Name: name, Slice: "sdbuild.slice", PIDs: []uint32{pid(child)}}); err != nil {
			t.Fatalf("Start %s = %v", when, err)
		}
		if err := m.Kill(ctx, name); err != nil {
			t.Fatalf("Kill %s = %v", when, err)
		}
		checkKilled(t, child, syscall.SIGKILL)
	}
	startKill("before any restart")
	first, _ := m.connection(ctx)
	for _, restart := range [][]string{
		{"systemctl", "restart", "dbus.service"},
		{"systemctl", "daemon-reexec"},
	} {
		if out, err := exec.Command(restart[0], restart[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(restart, " "), err, out)
		}
		startKill("after " + strings.Join(restart, " "))
	}
	if now, _ := m.connection(ctx); now == first {
		t.Errorf("connection unchanged after the bus restarted; the reconnect path was not taken")
	}
}

// BenchmarkStartStop measures a scope start and a kill (SIGKILL, waiting for
// the scope to be gone) for a sleeping child over one connection. The child's
// fork and exec are excluded.
func BenchmarkStartStop(b *testing.B) {
	m := testManager(b)
	ctx := context.Background()
	name := unitName()
	var scope time.Duration
	for b.Loop() {
		b.StopTimer()
		child := exec.Command("sleep", "1000")
		if err := child.Start(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if _, err := m.Start(ctx, Spec{Name: name, Slice: "sdbuild.slice", PIDs: []uint32{pid(child)}}); err != nil {
			b.Fatal(err)
		}
		if err := m.Kill(ctx, name); err != nil {
			b.Fatal(err)
		}
		scope += time.Since(start)
		b.StopTimer()
		child.Wait()
		b.StartTimer()
	}
	b.ReportMetric(float64(scope.Microseconds())/1000/math.Max(1, float64(b.N)), "ms/scope")
}
