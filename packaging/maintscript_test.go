//go:build !integration

package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// The maintainer scripts start nothing where systemd does not run (a
// chroot, an image build): there they only record the socket as enabled.
// Each runs with /run a fresh tmpfs in a mount namespace of its own, with
// /run/systemd/system (systemd's sign that it runs) made or not, and the
// helpers it calls replaced by ones that log their arguments.
func TestMaintainerScripts(t *testing.T) {
	testutil.RequireRoot(t, "mounts a tmpfs on /run in a new mount namespace")
	testutil.RequireBinary(t, "unshare", "util-linux")
	fake := t.TempDir()
	log := filepath.Join(fake, "log")
	for _, name := range []string{"deb-systemd-helper", "deb-systemd-invoke", "systemctl"} {
		script := "#!/bin/sh\necho \"" + name + " $*\" >>" + log + "\n"
		if name == "deb-systemd-helper" {
			script += "[ \"$2\" != was-enabled ] || exit 0\n" // a first install
		}
		if err := os.WriteFile(filepath.Join(fake, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, script string
		args         []string
		systemd      bool
		want         []string
	}{
		{"install in a chroot", "postinst", []string{"configure", ""}, false, []string{
			"deb-systemd-helper unmask sdbuild.socket",
			"deb-systemd-helper --quiet was-enabled sdbuild.socket",
			"deb-systemd-helper enable sdbuild.socket"}},
		{"install on a running system", "postinst", []string{"configure", ""}, true, []string{
			"deb-systemd-helper unmask sdbuild.socket",
			"deb-systemd-helper --quiet was-enabled sdbuild.socket",
			"deb-systemd-helper enable sdbuild.socket",
			"systemctl --system daemon-reload",
			"deb-systemd-invoke start sdbuild.socket"}},
		{"upgrade on a running system", "postinst", []string{"configure", "0.1"}, true, []string{
			"deb-systemd-helper unmask sdbuild.socket",
			"deb-systemd-helper --quiet was-enabled sdbuild.socket",
			"deb-systemd-helper enable sdbuild.socket",
			"systemctl --system daemon-reload",
			"deb-systemd-invoke try-restart sdbuild.service",
			"deb-systemd-invoke start sdbuild.socket"}},
		{"remove in a chroot", "prerm", []string{"remove"}, false, nil},
		{"remove on a running system", "prerm", []string{"remove"}, true, []string{
			"deb-systemd-invoke stop sdbuild.socket sdbuild.service"}},
		{"removed in a chroot", "postrm", []string{"remove"}, false, []string{
			"deb-systemd-helper mask sdbuild.socket"}},
		{"purged on a running system", "postrm", []string{"purge"}, true, []string{
			"systemctl --system daemon-reload",
			"deb-systemd-helper purge sdbuild.socket",
			"deb-systemd-helper unmask sdbuild.socket"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(log)
			setup := "mount -t tmpfs tmpfs /run"
			if tc.systemd {
				setup += " && mkdir -p /run/systemd/system"
			}
			script, _ := filepath.Abs(filepath.Join("debian", tc.script))
			if tc.script == "postrm" && tc.args[0] == "purge" {
				// Purge removes /var/lib/sdbuild: keep the host's.
				setup += " && mount -t tmpfs tmpfs /var/lib"
			}
			cmd := exec.Command("unshare", append([]string{"-m", "sh", "-c", setup + ` && exec sh "$0" "$@"`, script}, tc.args...)...)
			cmd.Env = append(os.Environ(), "PATH="+fake+":"+os.Getenv("PATH"))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s %q: %v\n%s", tc.script, tc.args, err, out)
			}
			b, _ := os.ReadFile(log)
			got := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(b) == 0 {
				got = nil
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("%s %q called\n%s\nwant\n%s", tc.script, tc.args, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
