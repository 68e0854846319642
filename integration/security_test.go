//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/internal/testutil"
)

// gateScript waits, for at most a minute, until the test opens the gate
// (a file in the build's input /gate), then runs script.
func gateScript(script string) string {
	return `i=0; while [ ! -e /gate/go ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; ` + script
}

// nobodyDir returns a fresh directory that nobody owns, below
// directories everyone can search.
func nobodyDir(t *testing.T) string {
	t.Helper()
	return testutil.OwnedDir(t, int(nobody.Uid), int(nobody.Gid))
}

// rootOnlyDir returns a fresh directory of root's that nobody may search
// but not write: a stand-in for /etc.
func rootOnlyDir(t *testing.T) string {
	t.Helper()
	dir := nobodyDir(t)
	if err := os.Chown(dir, 0, 0); err != nil {
		t.Fatal(err)
	}
	return dir
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Errorf("%s holds %v (%v), want nothing", dir, ents, err)
	}
}

func waitStatus(t *testing.T, id string, want api.Status) *api.Build {
	t.Helper()
	var b *api.Build
	waitFor(t, "build "+id+" to be "+string(want), func() bool { b = show(t, id); return b.Status == want || b.Status.Finished() })
	if b.Status != want {
		t.Fatalf("build %s is %s (%s), want %s", id, b.Status, b.Error, want)
	}
	return b
}

// The output's directory is swapped for a symlink to a root-only
// directory while the build runs (a client racing the daemon's check):
// the output is created as the client, where the client may not, so the
// build fails naming the path, and nothing appears in either directory.
func TestOutputPathSwappedWhileBuilding(t *testing.T) {
	base, etc := nobodyDir(t), rootOnlyDir(t)
	gate, swap := filepath.Join(base, "gate"), filepath.Join(base, "swap")
	for _, d := range []string{gate, swap} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, int(nobody.Uid), int(nobody.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(swap, "out")
	r := sdbuild(t, nobody, runArgs([]string{"--detach", "-o", out, "-i", gate + ":/gate"}, gateScript(`echo x > $out/x`))...)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" {
		t.Fatalf("run --detach as nobody: %d %q %q", r.code, r.stdout, r.stderr)
	}
	waitStatus(t, id, api.StatusRunning)
	if err := os.Rename(swap, swap+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(etc, swap); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gate, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var b *api.Build
	waitFor(t, "the build's end", func() bool { b = show(t, id); return b.Status.Finished() })
	if b.Status != api.StatusFailed || !strings.Contains(b.Error, out) || !strings.Contains(b.Error, "permission denied") {
		t.Errorf("build = %s (%q), want failed with an error naming %s: permission denied", b.Status, b.Error, out)
	}
	assertEmpty(t, etc)
	assertEmpty(t, swap+".old")
}

// A symlink planted on the output's path before submission, to a
// directory the client may not write, is refused at submission, naming
// the path.
func TestOutputPathPlantedLink(t *testing.T) {
	base, etc := nobodyDir(t), rootOnlyDir(t)
	planted := filepath.Join(base, "planted")
	if err := os.Symlink(etc, planted); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(planted, "out")
	r := sdbuild(t, nobody, runArgs([]string{"-o", out}, `echo x > $out/x`)...)
	if r.code == 0 || !strings.Contains(r.stderr, out) || !strings.Contains(r.stderr, "permission denied") {
		t.Errorf("run -o %s as nobody: %d %q %q; want a refusal naming the path", out, r.code, r.stdout, r.stderr)
	}
	assertEmpty(t, etc)
}

// An input's directory is swapped for a symlink into a directory only
// root may enter while the build waits in the queue: init opens the
// input as the client when the build starts, so the build fails naming
// the input and never reads what lies behind the link.
func TestInputPathSwappedWhileQueued(t *testing.T) {
	base := nobodyDir(t)
	gate := filepath.Join(t.TempDir(), "gate")
	if err := os.Mkdir(gate, 0o755); err != nil {
		t.Fatal(err)
	}
	closed := filepath.Join(rootOnlyDir(t), "closed")
	if err := os.MkdirAll(filepath.Join(closed, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(closed, "in", "secret"), []byte("root's secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "dir")
	if err := os.MkdirAll(filepath.Join(dir, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in")

	// Both slots busy, so nobody's build queues.
	var blockers []string
	for range testSlots {
		r := sdbuild(t, nil, runArgs([]string{"--detach", "-i", gate + ":/gate"}, gateScript("true"))...)
		id := strings.TrimSpace(r.stdout)
		if r.code != 0 || id == "" {
			t.Fatalf("run --detach: %d %q %q", r.code, r.stdout, r.stderr)
		}
		blockers = append(blockers, id)
	}
	for _, id := range blockers {
		waitStatus(t, id, api.StatusRunning)
	}
	r := sdbuild(t, nobody, runArgs([]string{"--detach", "-i", in + ":/in"}, `cat /in/secret`)...)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" {
		t.Fatalf("run --detach as nobody: %d %q %q", r.code, r.stdout, r.stderr)
	}
	waitStatus(t, id, api.StatusQueued)
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(closed, dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gate, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var b *api.Build
	waitFor(t, "the build's end", func() bool { b = show(t, id); return b.Status.Finished() })
	if b.Status != api.StatusFailed || !strings.Contains(b.Error, in) || !strings.Contains(b.Error, "permission denied") {
		t.Errorf("build = %s (%q), want failed with an error naming %s: permission denied", b.Status, b.Error, in)
	}
	if log := sdbuild(t, nil, "logs", id); strings.Contains(log.stdout, "secret") {
		t.Errorf("the build read what the client may not: %q", log.stdout)
	}
}
