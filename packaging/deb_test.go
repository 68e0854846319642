//go:build integration

package packaging

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The package's own id range for this test (0xE7000000, 2 slots), apart
// from every other test's and from real builds'.
const debStartID = 3875536896

// The Debian package, installed with dpkg inside the throwaway systemd on
// overlays of /usr, /etc and /var (which exist only in the testbed's
// mount namespace and go with it): the postinst enables and starts
// sdbuild.socket, the first build starts sdbuildd through it and runs,
// and purging stops and removes it all.
func TestDebInstall(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root inside a throwaway systemd: bin/sdbuild-testbed run -- go test -tags integration ./packaging/")
	}
	if out, err := exec.Command("systemctl", "is-system-running", "--wait").Output(); err != nil && !strings.Contains(string(out), "degraded") {
		t.Fatalf("needs a running systemd (got %q, %v): bin/sdbuild-testbed run -- go test -tags integration ./packaging/", out, err)
	}
	tmp := t.TempDir()
	start := time.Now()
	out, err := exec.Command("make", "-C", "..", "deb", "DEBDIR="+tmp, "BUILDDIR="+filepath.Join(tmp, "build")).CombinedOutput()
	if err != nil {
		t.Fatalf("make deb: %v\n%s", err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(debs) != 1 {
		t.Fatalf("make deb made %q, want one package", debs)
	}
	t.Logf("make deb: %v", time.Since(start).Round(time.Millisecond))

	for _, dir := range []string{"/usr", "/etc", "/var"} {
		overlay(t, dir, filepath.Join(tmp, "overlay", strings.Trim(dir, "/")))
	}
	t.Cleanup(func() {
		// Whatever happened, no unit of the package stays loaded.
		exec.Command("systemctl", "stop", "sdbuild.socket", "sdbuild.service").Run()
	})
	// Builds of this test get ids of their own.
	if err := os.MkdirAll("/etc/sdbuild", 0o755); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("start-id = %d\nid-count = %d\n", debStartID, 2*65536)
	if err := os.WriteFile("/etc/sdbuild/sdbuild.toml", []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}

	// As in a chroot or an image build: policy-rc.d forbids starting
	// services, and the package starts nothing, but enables the socket.
	policy := "/usr/sbin/policy-rc.d"
	if err := os.WriteFile(policy, []byte("#!/bin/sh\nexit 101\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	must(t, "dpkg", "-i", debs[0])
	t.Logf("dpkg -i: %v", time.Since(start).Round(time.Millisecond))
	if got := state(t, "is-enabled", "sdbuild.socket"); got != "enabled" {
		t.Errorf("after dpkg -i, sdbuild.socket is %s, want enabled", got)
	}
	if got := state(t, "is-active", "sdbuild.socket"); got != "inactive" {
		t.Errorf("after dpkg -i with policy-rc.d saying no, sdbuild.socket is %s, want inactive", got)
	}
	// On a booted machine (no policy-rc.d), configuring the package again
	// (as an upgrade does, without a second unpack) starts the socket,
	// and only the socket.
	if err := os.Remove(policy); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	must(t, "dpkg-reconfigure", "sdbuild")
	if got := state(t, "is-active", "sdbuild.socket"); got != "active" {
		t.Errorf("after dpkg -i, sdbuild.socket is %s, want active", got)
	}
	if got := state(t, "is-active", "sdbuild.service"); got != "inactive" {
		t.Errorf("after dpkg -i, sdbuild.service is %s, want inactive until a client connects", got)
	}
	if got := state(t, "show", "-p", "Documentation", "--value", "sdbuild.service"); !strings.Contains(got, "man:sdbuildd(8)") {
		t.Errorf("sdbuild.service Documentation = %q, want man:sdbuildd(8)", got)
	}

	start = time.Now()
	result := filepath.Join(tmp, "result")
	must(t, "/usr/bin/sdbuild", "run", "-i", "/usr", "-i", "/bin", "-i", "/lib", "-i", "/lib64", "-e", "PATH=/usr/bin:/bin",
		"-o", result, "--", "/bin/sh", "-c", "echo hi > $out/x")
	t.Logf("first build: %v", time.Since(start).Round(time.Millisecond))
	if b, err := os.ReadFile(filepath.Join(result, "x")); err != nil || string(b) != "hi\n" {
		t.Errorf("build output: %q, %v; want \"hi\\n\"", b, err)
	}
	if got := state(t, "is-active", "sdbuild.service"); got != "active" {
		t.Errorf("after a build, sdbuild.service is %s, want active (started by the socket)", got)
	}
	if got := state(t, "show", "-p", "ExecStart", "--value", "sdbuild.service"); !strings.Contains(got, "path=/usr/libexec/sdbuild/sdbuildd ") {
		t.Errorf("sdbuild.service runs %q, want /usr/libexec/sdbuild/sdbuildd", got)
	}
	if out := must(t, "/usr/bin/sdbuild", "list"); !strings.Contains(out, "succeeded") {
		t.Errorf("sdbuild list after the build:\n%s", out)
	}
	// Builds start the packaged sdbuild-init, the daemon's and sdbuild's.
	const init = "/usr/libexec/sdbuild/sdbuild-init"
	exec.Command("journalctl", "--sync").Run()
	if out, _ := exec.Command("journalctl", "-u", "sdbuild.service", "-o", "cat", "--no-pager").Output(); !strings.Contains(string(out), "init="+init+"\n") {
		t.Errorf("sdbuildd does not say it uses %s:\n%s", init, out)
	}
	if out, _ := exec.Command("/usr/bin/sdbuild", "doctor").Output(); !strings.Contains(string(out), "builds start "+init+"\n") {
		t.Errorf("sdbuild doctor does not say builds start %s:\n%s", init, out)
	}

	start = time.Now()
	must(t, "dpkg", "--purge", "sdbuild")
	t.Logf("dpkg --purge: %v", time.Since(start).Round(time.Millisecond))
	if got := state(t, "is-active", "sdbuild.socket"); got != "inactive" {
		t.Errorf("after dpkg --purge, sdbuild.socket is %s, want inactive", got)
	}
	if got := state(t, "show", "-p", "LoadState", "--value", "sdbuild.socket"); got != "not-found" {
		t.Errorf("after dpkg --purge, sdbuild.socket is %s, want not-found", got)
	}
	for _, p := range []string{"/usr/bin/sdbuild", "/usr/libexec/sdbuild", "/var/lib/sdbuild", "/etc/systemd/system/sockets.target.wants/sdbuild.socket"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("after dpkg --purge, %s is still there", p)
		}
	}
}

// overlay puts a writable overlay over dir, its upper layer in under, and
// takes it away when t ends (then systemd forgets what it read there).
func overlay(t *testing.T, dir, under string) {
	t.Helper()
	upper, work := filepath.Join(under, "upper"), filepath.Join(under, "work")
	for _, d := range []string{upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", dir, upper, work)
	if err := syscall.Mount("overlay", dir, "overlay", 0, opts); err != nil {
		t.Fatalf("overlay on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount overlay on %s: %v", dir, err)
		}
		exec.Command("systemctl", "daemon-reload").Run()
	})
}

// must runs a command with a deadline and returns its output, or fails t.
func must(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive", "HOME=/root"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// state is systemctl's answer about a unit, whatever its exit status.
func state(t *testing.T, args ...string) string {
	t.Helper()
	out, _ := exec.Command("systemctl", args...).Output()
	return strings.TrimSpace(string(out))
}
