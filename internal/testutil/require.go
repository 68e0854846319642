// Package testutil holds the privilege tiers tests declare: a test that
// needs root or a feature of the host says so and skips with the reason
// when it cannot run.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequireRoot skips t unless it runs as root, saying why the test needs
// it. CI runs as root, so there these tests run.
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: " + why)
	}
}

// RequireBinary skips t unless name is on PATH.
func RequireBinary(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("needs %s (Debian package %s): %v", name, pkg, err)
	}
	return p
}

// OwnedDir returns a fresh directory that uid and gid own, below
// directories everyone may search, so that a test can act as that user
// there (outputs and inputs are resolved with the client's credentials).
func OwnedDir(t testing.TB, uid, gid int) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return dir
}
