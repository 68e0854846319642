// Package testutil holds the privilege tiers tests declare: a test that
// needs root or a feature of the host says so and skips with the reason
// when it cannot run.
package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// RequireRoot skips t unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates namespaces, maps host ids and mounts")
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
