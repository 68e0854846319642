package outputs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// TestRemove deletes trees a build could have left, and checks that what
// their symlinks point at survives.
func TestRemove(t *testing.T) {
	tests := []struct {
		name  string
		root  bool // needs CAP_DAC_OVERRIDE
		setup func(t *testing.T, tree, outside string) (path string)
	}{
		{"symlink to outside directory", false, func(t *testing.T, tree, outside string) string {
			writeFile(t, filepath.Join(tree, "f"), "x", 0o644)
			symlink(t, outside, filepath.Join(tree, "link"))
			return tree
		}},
		{"symlink to outside file", false, func(t *testing.T, tree, outside string) string {
			mkdir(t, filepath.Join(tree, "sub"), 0o755)
			symlink(t, filepath.Join(outside, "keep"), filepath.Join(tree, "sub", "link"))
			return tree
		}},
		{"path is a symlink to a directory", false, func(t *testing.T, tree, outside string) string {
			symlink(t, outside, tree)
			return tree
		}},
		{"mode 0000 directory", true, func(t *testing.T, tree, outside string) string {
			writeFile(t, filepath.Join(tree, "locked", "f"), "x", 0o000)
			mkdir(t, filepath.Join(tree, "locked", "inner"), 0o000)
			symlink(t, outside, filepath.Join(tree, "locked", "link"))
			mkdir(t, filepath.Join(tree, "locked"), 0o000)
			mkdir(t, tree, 0o000)
			return tree
		}},
		{"read-only directories", true, func(t *testing.T, tree, outside string) string {
			writeFile(t, filepath.Join(tree, "ro", "f"), "x", 0o444)
			mkdir(t, filepath.Join(tree, "ro"), 0o555)
			mkdir(t, tree, 0o555)
			return tree
		}},
		{"missing", false, func(t *testing.T, tree, outside string) string { return tree }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root {
				testutil.RequireRoot(t, "entering a mode 0000 or 0555 directory needs CAP_DAC_OVERRIDE")
			}
			tmp := t.TempDir()
			outside := filepath.Join(tmp, "outside")
			writeFile(t, filepath.Join(outside, "keep"), "keep", 0o644)
			path := tt.setup(t, filepath.Join(tmp, "tree"), outside)

			if err := Remove(path); err != nil {
				t.Fatalf("Remove(%s) = %v", path, err)
			}
			if _, err := os.Lstat(path); !os.IsNotExist(err) {
				t.Errorf("Lstat(%s) after Remove = %v, want not exist", path, err)
			}
			if got, err := os.ReadFile(filepath.Join(outside, "keep")); err != nil || string(got) != "keep" {
				t.Errorf("outside/keep = %q, %v; want it intact", got, err)
			}
		})
	}
}
