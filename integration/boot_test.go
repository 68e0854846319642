//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bootScript boots a nested systemd with systemd-nspawn --boot: its default
// unit is sdbuild-test.target, which pulls in a service that records what
// it sees in /result (a bind mount of the build's /build/result) and, when
// poweroff is set, powers the container off. systemd's console does not
// reach nspawn's stdout with --console=pipe, hence the file.
func bootScript(poweroff bool) string {
	post := ""
	if poweroff {
		post = "ExecStartPost=/bin/systemctl --no-block poweroff"
	}
	return `mkdir -p /build/units /build/result
cat > /build/units/sdbuild-test.target <<'U'
[Unit]
Description=sdbuild nested boot test
Requires=basic.target
After=basic.target
Wants=sdbuild-hello.service
AllowIsolate=yes
U
cat > /build/units/sdbuild-hello.service <<'U'
[Unit]
Description=say hello from the nested systemd
After=sdbuild-test.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "pid1=$(cat /proc/1/comm) target=$(systemctl is-active sdbuild-test.target)" > /result/out'
` + post + `
U
systemd-nspawn -D / --volatile=yes --register=no --keep-unit --console=pipe \
  --bind-ro=/build/units/sdbuild-test.target:/etc/systemd/system/sdbuild-test.target \
  --bind-ro=/build/units/sdbuild-hello.service:/etc/systemd/system/sdbuild-hello.service \
  --bind=/build/result:/result \
  --boot -- --unit=sdbuild-test.target
echo "nspawn exit $?"; cat /build/result/out`
}

// A nested systemd boots in a build, reaches its target, runs a command
// through a unit, powers off, and the build succeeds.
func TestNestedBoot(t *testing.T) {
	requireNspawn(t)
	r := sdbuild(t, nil, runArgs(nestedFeatures, bootScript(true))...)
	if r.code != 0 || r.stdout != "nspawn exit 0\npid1=systemd target=active\n" {
		t.Fatalf("nested boot: %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// Cancel while a nested systemd runs: nothing of it survives, on the host
// or in the build's cgroup.
func TestCancelNestedBoot(t *testing.T) {
	requireNspawn(t)
	r := sdbuild(t, nil, runArgs(append([]string{"--detach"}, nestedFeatures...), bootScript(false))...)
	id := strings.TrimSpace(r.stdout)
	scopeDir := filepath.Join("/sys/fs/cgroup/sdbuild.slice", "sdbuild-"+id+".scope")
	// The nested systemd's own services show as cgroups in the build's.
	waitFor(t, "the nested systemd's journald", func() bool {
		_, err := os.Stat(filepath.Join(scopeDir, "build/payload/system.slice/systemd-journald.service"))
		return err == nil
	})
	if p := idsInUse(t); len(p) < 3 {
		t.Fatalf("expected the nested systemd's processes, found %q", p)
	}
	if r := sdbuild(t, nil, "cancel", id); r.code != 0 || !strings.Contains(r.stdout, "cancelled") {
		t.Fatalf("cancel: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if p := idsInUse(t); len(p) != 0 {
		t.Errorf("processes left after cancelling a nested boot: %q", p)
	}
	waitFor(t, "the scope and its sub-cgroups to go", func() bool {
		_, err := os.Stat(scopeDir)
		return os.IsNotExist(err)
	})
}
