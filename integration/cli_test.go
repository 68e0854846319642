//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/internal/version"
)

// The CLI's conventions through the real daemon: flags stop at CMD, a
// death by signal reads as one, one closing line (none with -q), ids by
// prefix, logs -n and --since, the daemon's version.
func TestCLIConventions(t *testing.T) {
	run := append([]string{"run"}, inputs...)
	r := sdbuild(t, nil, append(run, "/bin/sh", "-c", "echo hi; kill -SEGV $$")...)
	if r.code != 139 || !strings.Contains(r.stderr, "failed: builder killed by signal SEGV (core") || strings.Contains(r.stderr, "status 139") {
		t.Errorf("run killed by SIGSEGV: %d %q", r.code, r.stderr)
	}
	r = sdbuild(t, nil, append(run, "/bin/sh", "-c", "echo hi", "-i", "ignored")...)
	if r.code != 0 || r.stdout != "hi\n" || !strings.Contains(r.stderr, " succeeded; ran ") || !strings.Contains(r.stderr, ", CPU ") {
		t.Errorf("run without --: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = sdbuild(t, nil, append(append(run, "-q", "--timeout", "1min 30s"), "/bin/sh", "-c", "echo hi")...)
	if r.code != 0 || r.stdout != "hi\n" || r.stderr != "" {
		t.Errorf("run -q: %d %q %q", r.code, r.stdout, r.stderr)
	}

	r = sdbuild(t, nil, append(append(run, "--detach", "--name", "cli-prefix"), "/bin/sh", "-c", "echo one; echo two; echo three")...)
	id := strings.TrimSpace(r.stdout)
	waitFor(t, "the build to finish", func() bool { return show(t, id).Status.Finished() })
	if r := sdbuild(t, nil, "show", id[:5]); r.code != 0 || !strings.Contains(r.stdout, "ID:") || !strings.Contains(r.stdout, id) {
		t.Errorf("show %s: %d %q %q", id[:5], r.code, r.stdout, r.stderr)
	}
	if r := sdbuild(t, nil, "logs", "-n", "2", id[:5]); r.code != 0 || r.stdout != "two\nthree\n" {
		t.Errorf("logs -n 2 %s: %d %q %q", id[:5], r.code, r.stdout, r.stderr)
	}
	exec.Command("journalctl", "--sync").Run()
	if r := sdbuild(t, nil, "logs", "--since", "10min", id[:5]); r.code != 0 || r.stdout != "one\ntwo\nthree\n" {
		t.Errorf("logs --since 10min %s: %d %q %q", id[:5], r.code, r.stdout, r.stderr)
	}

	r = sdbuild(t, nil, "status")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "sdbuildd "+version.String()) || strings.Contains(r.stderr, "warning") {
		t.Errorf("status: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// Inside a build, SDBUILD_BUILD_ID is set; sdbuild there must not take it
// for configuration. Here it cannot reach a daemon, and says so.
func TestSdbuildInsideABuild(t *testing.T) {
	// /tmp is the sandbox's own: the binaries go elsewhere.
	script := `/opt/sdbuild/sdbuild status --socket /nonexistent/sdbuild.sock; echo "id=$SDBUILD_BUILD_ID"`
	r := sdbuild(t, nil, runArgs([]string{"-i", binDir + ":/opt/sdbuild"}, script+" 2>&1")...)
	if r.code != 0 || !strings.Contains(r.stdout, "sdbuild daemon not reachable at /nonexistent/sdbuild.sock") ||
		strings.Contains(r.stdout, "unknown environment variable") || strings.Contains(r.stdout, "id=\n") {
		t.Errorf("sdbuild status inside a build: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// A client reads only the socket: a daemon configuration it may not read
// or that is wrong does not stop it.
func TestClientWithBrokenDaemonConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "sdbuild.toml")
	if err := os.WriteFile(cfg, []byte("max-jbos = 3\nstart-id = 0\nSTATE-DIR = \"/x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, "sdbuild"), "--config", cfg, "list")
	cmd.Env = []string{"SDBUILD_SOCKET=" + socket, "PATH=/usr/bin:/bin", "SDBUILD_BUILD_ID=0123456789ab"}
	if out, err := cmd.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "ID ") {
		t.Errorf("sdbuild list with a broken daemon configuration: %v\n%s", err, out)
	}
}
