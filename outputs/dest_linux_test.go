package outputs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// TestCopyDestinationAsOwner: the destination is resolved and created with
// the owner's credentials. A symlink the owner planted on the path to a
// directory the owner may not write (the daemon's own, /etc) leads to a
// refusal that names the path, and nothing appears there; the owner's
// symlink to a directory of their own is followed, as cp would.
func TestCopyDestinationAsOwner(t *testing.T) {
	testutil.RequireRoot(t, "Copy chowns every inode to an arbitrary uid and acts as it")
	src := filepath.Join(t.TempDir(), "out")
	writeFile(t, filepath.Join(src, "f"), "x", 0o644)

	home := ownerDir(t)
	rootOnly := filepath.Join(t.TempDir(), "root-only") // root's, 0755: searchable, not writable by the owner
	mkdir(t, rootOnly, 0o755)
	searchable(t, filepath.Dir(rootOnly))
	mine := filepath.Join(home, "mine")
	mkdir(t, mine, 0o755)
	if err := os.Chown(mine, testOwner.UID, testOwner.GID); err != nil {
		t.Fatal(err)
	}
	symlink(t, rootOnly, filepath.Join(home, "to-root"))
	symlink(t, mine, filepath.Join(home, "to-mine"))

	dst := filepath.Join(home, "to-root", "result")
	err := Copy(src, dst, testOwner)
	if !errors.Is(err, unix.EACCES) || !strings.Contains(err.Error(), dst) {
		t.Errorf("Copy through the owner's link to root's directory = %v, want EACCES naming %s", err, dst)
	}
	if ents, _ := os.ReadDir(rootOnly); len(ents) != 0 {
		t.Errorf("root's directory %s gained %v", rootOnly, ents)
	}

	if err := Copy(src, filepath.Join(home, "to-mine", "result"), testOwner); err != nil {
		t.Fatalf("Copy through the owner's link to their own directory: %v", err)
	}
	if st := lstat(t, filepath.Join(mine, "result", "f")); st.Uid != uint32(testOwner.UID) {
		t.Errorf("output file owner = %d, want %d", st.Uid, testOwner.UID)
	}
}

// searchable lets everyone search dir.
func searchable(t *testing.T, dir string) {
	t.Helper()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
