//go:build linux && !integration

// These tests boot real testbeds, so they run on the host (as root), not
// inside a testbed: the integration tag, which `sdbuild-testbed run -- go
// test -tags integration ./...` sets, leaves them out.

package testbed

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
	"github.com/sdbuild/sdbuild/internal/testutil"
)

// bootForTest boots a testbed whose console goes to a file that is logged if
// the test fails.
func bootForTest(t testing.TB, name string) *Testbed {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "console.log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("console of %s:\n%s", name, b)
		}
	})
	tb, err := Boot(context.Background(), Options{Name: name, Log: log})
	if err != nil {
		t.Fatalf("Boot(%s) = %v", name, err)
	}
	return tb
}

// output runs name inside tb and returns its standard output.
func output(t *testing.T, tb *Testbed, name string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := tb.Command(context.Background(), name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %q inside: %v; stderr: %s", name, args, err, stderr.Bytes())
	}
	return string(out)
}

// mountOptions returns the per-mount options of the topmost mount at each
// mount point in a mountinfo file.
func mountOptions(mountinfo string) map[string]string {
	opts := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(mountinfo))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 5 {
			opts[f[4]] = f[5] // later lines are mounted on top of earlier ones
		}
	}
	return opts
}

func hasOption(opts, o string) bool {
	for _, x := range strings.Split(opts, ",") {
		if x == o {
			return true
		}
	}
	return false
}

// TestBootTwice boots two testbeds one after the other, checks each from
// inside, and checks that teardown leaves nothing behind.
func TestBootTwice(t *testing.T) {
	testutil.RequireRoot(t, "boots systemd in new namespaces")
	// tmp.conf's "D /tmp" would empty the host's /tmp if a testbed ran
	// systemd-tmpfiles-setup.
	marker, err := os.CreateTemp("/tmp", "sdbuild-testbed-marker-*")
	if err != nil {
		t.Fatal(err)
	}
	marker.Close()
	t.Cleanup(func() { os.Remove(marker.Name()) })

	for i := range 2 {
		name := fmt.Sprintf("sdbuild-testbed-twice-%d", i)
		t.Run(name, func(t *testing.T) {
			tb := bootForTest(t, name)
			checkInside(t, tb, name)
			// Held past Close, so that checkGone looks at the testbed's
			// namespaces and not at new ones given their numbers.
			pidNS, mntNS := holdNamespace(t, tb.PID, "pid"), holdNamespace(t, tb.PID, "mnt")
			if err := tb.Close(); err != nil {
				t.Fatalf("Close() = %v", err)
			}
			checkGone(t, tb, pidNS, mntNS)
			if _, err := os.Stat(marker.Name()); err != nil {
				t.Errorf("host /tmp marker after testbed %s: %v", name, err)
			}
		})
	}
}

func checkInside(t *testing.T, tb *Testbed, name string) {
	// is-system-running exits 1 for degraded, which still counts.
	state, _ := tb.Command(context.Background(), "systemctl", "is-system-running").Output()
	if !systemStateOK(string(state)) {
		failed, _ := tb.Command(context.Background(), "systemctl", "--failed", "--no-legend").Output()
		t.Errorf("systemctl is-system-running = %q, want running or degraded; failed units: %s", state, failed)
	}
	// A real bus: dbus-daemon is socket-activated by this call.
	if out := output(t, tb, "busctl", "--system", "list"); !strings.Contains(out, "org.freedesktop.systemd1") {
		t.Errorf("busctl --system list inside does not list org.freedesktop.systemd1:\n%s", out)
	}
	if out := output(t, tb, "hostname"); strings.TrimSpace(out) != name {
		t.Errorf("hostname inside = %q, want %q", out, name)
	}
	inner := mountOptions(output(t, tb, "cat", "/proc/self/mountinfo"))
	if !hasOption(inner["/sys"], "ro") {
		t.Errorf("/sys inside is mounted %q, want ro", inner["/sys"])
	}
	for mp := range inner {
		if strings.HasPrefix(mp, "/proc/") {
			t.Errorf("%s is mounted inside; nothing under /proc may be overmounted", mp)
		}
	}
	host, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if o := mountOptions(string(host))["/sys"]; !hasOption(o, "rw") {
		t.Errorf("host /sys is mounted %q while a testbed runs, want rw", o)
	}
	// Commands run in a scope of the testbed's systemd, inside its cgroup.
	if out := output(t, tb, "cat", "/proc/self/cgroup"); !strings.Contains(out, "0::/system.slice/sdbuild-testbed-command-") {
		t.Errorf("/proc/self/cgroup inside = %q, want a sdbuild-testbed-command-*.scope in system.slice", out)
	}
	// And from the host, systemd is in the testbed's cgroup.
	host, err = os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", tb.PID))
	if err != nil {
		t.Fatal(err)
	}
	mnt, _ := cgroup2.Root()
	rel := strings.TrimPrefix(tb.Cgroup, mnt)
	if !strings.Contains(string(host), "0::"+rel+"/init.scope") {
		t.Errorf("/proc/%d/cgroup = %q, want systemd in %s/init.scope", tb.PID, host, rel)
	}
}

// holdNamespace opens the namespace of kind that pid is in until t ends and
// returns its name.
func holdNamespace(t *testing.T, pid int, kind string) string {
	t.Helper()
	ns, err := openNamespace(pid, kind)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.release)
	return ns.name
}

// checkGone checks, independently of Close's own checks, that no process,
// namespace or cgroup of tb is left.
func checkGone(t *testing.T, tb *Testbed, pidNS, mntNS string) {
	if _, err := os.Stat(tb.Cgroup); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cgroup %s after Close: stat = %v, want not exist", tb.Cgroup, err)
	}
	if link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", tb.PID)); err == nil && link == pidNS {
		t.Errorf("systemd (pid %d) is still alive after Close", tb.PID)
	}
	for _, ns := range []string{pidNS, mntNS} {
		if pids := processesIn(ns); len(pids) > 0 {
			t.Errorf("processes %v still in %s after Close", pids, ns)
		}
	}
	if err := tb.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	if err := tb.Command(context.Background(), "true").Run(); !errors.Is(err, ErrClosed) {
		t.Errorf("Command after Close: Run() = %v, want ErrClosed", err)
	}
}

// TestCommandCancel checks that cancelling a command's context kills the
// process inside, not just nsenter.
func TestCommandCancel(t *testing.T) {
	testutil.RequireRoot(t, "boots systemd in new namespaces")
	tb := bootForTest(t, "sdbuild-testbed-cancel")
	defer tb.Close()
	before := map[int]bool{}
	for _, pid := range processesIn(tb.pidNS.name) {
		before[pid] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := tb.Command(ctx, "sh", "-c", "echo started; exec sleep 1000")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "started\n" {
		t.Fatalf("first line from command = %q, %v", line, err)
	}
	// The command's process is the one that joined the pid namespace
	// (it is sh, or already sleep).
	var started []int
	for _, pid := range processesIn(tb.pidNS.name) {
		if !before[pid] {
			started = append(started, pid)
		}
	}
	if len(started) == 0 {
		t.Fatalf("no new process in the testbed while the command runs")
	}
	cancel()
	if err := cmd.Wait(); err == nil {
		t.Errorf("Wait() after cancel = nil, want an error")
	}
	// nsenter reaps the command before it exits, so by now it is gone.
	for _, pid := range started {
		if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !strings.Contains(string(stat), ") Z ") {
			t.Errorf("process %d of the cancelled command still runs: %s", pid, stat)
		}
	}
}

// TestCloseReportsLeftover puts a host process (outside the testbed's pid
// namespace, so killing systemd cannot reach it) into the testbed's cgroup
// and checks that Close says so instead of passing silently.
func TestCloseReportsLeftover(t *testing.T) {
	testutil.RequireRoot(t, "boots systemd in new namespaces")
	tb := bootForTest(t, "sdbuild-testbed-leftover")
	dir := filepath.Join(tb.Cgroup, "sdbuild-test-leftover")
	if err := os.Mkdir(dir, 0o755); err != nil {
		tb.Close()
		t.Fatal(err)
	}
	cg, err := os.Open(dir)
	if err != nil {
		tb.Close()
		t.Fatal(err)
	}
	sleep := exec.Command("sleep", "1000")
	sleep.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd())}
	err = sleep.Start()
	cg.Close()
	if err != nil {
		tb.Close()
		t.Fatal(err)
	}
	err = tb.Close()
	if !errors.Is(err, ErrLeftover) || !strings.Contains(err.Error(), fmt.Sprint(sleep.Process.Pid)) {
		t.Errorf("Close() with pid %d left in the cgroup = %v, want an ErrLeftover naming it", sleep.Process.Pid, err)
	}
	// Close killed it through cgroup.kill; reap it and tidy up what Close
	// could not remove while it was dying.
	if err := sleep.Wait(); err == nil {
		t.Errorf("leftover sleep exited cleanly, want it killed by Close")
	}
	if err := removeCgroup(tb.Cgroup); err != nil {
		t.Errorf("removeCgroup after the leftover died: %v", err)
	}
}

// TestPrivateTmpStaysInside starts a service with PrivateTmp= in a testbed,
// as systemd-logind is in every testbed that has users, and checks that its
// dirs are in the testbed's own /tmp and /var/tmp and never in the host's,
// neither while it runs nor after Close killed it (which leaves them, as it
// leaves logind's).
func TestPrivateTmpStaysInside(t *testing.T) {
	testutil.RequireRoot(t, "boots systemd in new namespaces")
	// A name of this run alone: every testbed's systemd uses the host's boot
	// id, so only the unit tells this test's dirs from other testbeds'.
	unit := "sdbuild-testbed-privtmp-" + strings.ToLower(rand.Text()[:10]) + ".service"
	pattern := "systemd-private-*-" + unit + "-*"
	onHost := func(dir string) []string {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		return m
	}
	t.Cleanup(func() {
		for _, dir := range tmpDirs {
			for _, p := range onHost(dir) {
				os.RemoveAll(p)
			}
		}
	})
	hostOnly := t.TempDir()

	tb := bootForTest(t, "sdbuild-testbed-privtmp")
	defer tb.Close()
	// Type=exec: systemd-run returns once the service's process has been
	// exec'd, which comes after its /tmp and /var/tmp were set up.
	output(t, tb, "systemd-run", "--quiet", "--unit="+unit, "-p", "PrivateTmp=yes", "-p", "Type=exec", "sleep", "infinity")
	for _, dir := range tmpDirs {
		output(t, tb, "sh", "-c", "ls -d "+dir+"/"+pattern)
		if got := strings.TrimSpace(output(t, tb, "stat", "-f", "-c", "%T", dir)); got != "tmpfs" {
			t.Errorf("%s inside is a %s, want the testbed's own tmpfs", dir, got)
		}
		if m := onHost(dir); len(m) > 0 {
			t.Errorf("%s's PrivateTmp dirs are in the host's %s while it runs: %v", unit, dir, m)
		}
	}
	if out, err := tb.Command(context.Background(), "test", "-e", hostOnly).CombinedOutput(); err == nil {
		t.Errorf("the host's %s is visible in the testbed's /tmp (%s)", hostOnly, out)
	}

	if err := tb.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	for _, dir := range tmpDirs {
		if m := onHost(dir); len(m) > 0 {
			t.Errorf("%s's PrivateTmp dirs are in the host's %s after Close: %v", unit, dir, m)
		}
	}
}

// TestCloseReportsTmpLeftover has a command inside unmount the testbed's
// /tmp and make a dir in what then is the host's, and checks that Close names
// that dir instead of passing silently.
func TestCloseReportsTmpLeftover(t *testing.T) {
	testutil.RequireRoot(t, "boots systemd in new namespaces")
	name := "sdbuild-testbed-escaped-" + strings.ToLower(rand.Text()[:10])
	host := filepath.Join("/tmp", name)
	t.Cleanup(func() { os.Remove(host) })

	tb := bootForTest(t, "sdbuild-testbed-tmp-leftover")
	output(t, tb, "sh", "-c", "umount -l /tmp && mkdir "+host)
	if _, err := os.Stat(host); err != nil {
		tb.Close()
		t.Fatalf("mkdir %s inside, after umount /tmp there, did not reach the host: %v", host, err)
	}
	err := tb.Close()
	if !errors.Is(err, ErrLeftover) || !strings.Contains(err.Error(), name) {
		t.Errorf("Close() with %s made from inside = %v, want an ErrLeftover naming it", host, err)
	}
}

// BenchmarkBoot measures a whole boot (until is-system-running says running)
// and teardown.
func BenchmarkBoot(b *testing.B) {
	testutil.RequireRoot(b, "boots systemd in new namespaces")
	var boot time.Duration
	for b.Loop() {
		start := time.Now()
		tb, err := Boot(context.Background(), Options{Name: "sdbuild-testbed-bench"})
		if err != nil {
			b.Fatal(err)
		}
		boot += time.Since(start)
		if err := tb.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(boot.Milliseconds())/float64(b.N), "boot-ms/op")
}
