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

// No file of the repository names a package registry's host: tools reach
// registries through their own clients and configuration. The names are
// put together here so that this file does not name them either.
func TestNoRegistryHosts(t *testing.T) {
	testutil.RequireBinary(t, "git", "git")
	hosts := [][]string{
		{"proxy", "golang", "org"}, {"sum", "golang", "org"}, {"index", "golang", "org"},
		{"deb", "debian", "org"}, {"security", "debian", "org"}, {"ftp", "debian", "org"},
		{"archive", "ubuntu", "com"}, {"registry", "npmjs", "org"}, {"pypi", "org"},
		{"files", "pythonhosted", "org"}, {"crates", "io"}, {"rubygems", "org"},
		{"repo1", "maven", "org"}, {"registry-1", "docker", "io"}, {"dl", "google", "com"},
	}
	out, err := exec.Command("git", "-C", "..", "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	files := strings.Fields(string(out))
	if len(files) < 50 {
		t.Fatalf("git ls-files listed %d files, want the repository", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			continue // deleted in the work tree
		}
		text := strings.ToLower(string(b))
		for _, h := range hosts {
			if name := strings.Join(h, "."); strings.Contains(text, name) {
				t.Errorf("%s names %s", f, name)
			}
		}
	}
}
