package bbrunner

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/internal/testutil"
)

// Host ids of the root test tier: never a real build's.
var testIDs = build.IDs{UID: 3758096384 + 7*65536, GID: 3758096384 + 7*65536, Count: 65536}

func owned(t *testing.T, p string) (uid, gid uint32, mode os.FileMode) {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	s := st.Sys().(*syscall.Stat_t)
	return s.Uid, s.Gid, st.Mode()
}

// Lending gives the directories, never the files, to the build; reclaim
// hands back everything the build's ids own, set-id bits gone, never
// through a symlink.
func TestLendAndReclaim(t *testing.T) {
	testutil.RequireRoot(t, "chowns to a slot's ids")
	root := t.TempDir()
	for _, d := range []string{"a/b", "out"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	in := filepath.Join(root, "a/b/input")
	os.WriteFile(in, []byte("cached"), 0o444)
	outside := filepath.Join(t.TempDir(), "outside")
	os.WriteFile(outside, nil, 0o644)
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := lendDirs(fd, testIDs); err != nil {
		t.Fatalf("lendDirs: %v", err)
	}
	for _, d := range []string{".", "a", "a/b", "out"} {
		if uid, _, _ := owned(t, filepath.Join(root, d)); uid != testIDs.UID {
			t.Errorf("%s: uid %d after lending, want %d", d, uid, testIDs.UID)
		}
	}
	if uid, _, _ := owned(t, in); uid != 0 {
		t.Errorf("input: uid %d after lending, want 0: files stay the worker's", uid)
	}
	// What a build would leave: a set-uid file, a closed directory, a
	// symlink to a file outside, all its own.
	made := filepath.Join(root, "out/made")
	os.WriteFile(made, nil, 0o4755)
	os.Chown(made, int(testIDs.UID)+5, int(testIDs.GID))
	os.Chmod(made, 0o4755)
	closed := filepath.Join(root, "out/closed")
	os.Mkdir(closed, 0)
	os.Chown(closed, int(testIDs.UID), int(testIDs.GID))
	link := filepath.Join(root, "out/link")
	os.Symlink(outside, link)
	os.Lchown(link, int(testIDs.UID), int(testIDs.GID))
	os.Chown(outside, int(testIDs.UID), int(testIDs.GID)) // must stay so: not below the tree

	if err := reclaim(fd, testIDs, owner{1234, 5678}); err != nil {
		t.Fatalf("reclaim: %v", err)
	}
	for _, p := range []string{root, filepath.Join(root, "a/b"), made, closed, link} {
		if uid, gid, _ := owned(t, p); uid != 1234 || gid != 5678 {
			t.Errorf("%s: owned by %d:%d after reclaim, want 1234:5678", p, uid, gid)
		}
	}
	if _, _, mode := owned(t, made); mode&os.ModeSetuid != 0 {
		t.Errorf("made: mode %v after reclaim, want no set-uid bit", mode)
	}
	if _, _, mode := owned(t, closed); mode.Perm()&0o700 != 0o700 {
		t.Errorf("closed: mode %v after reclaim, want u+rwx", mode)
	}
	if uid, _, _ := owned(t, in); uid != 0 {
		t.Errorf("input: uid %d after reclaim, want 0", uid)
	}
	if uid, _, _ := owned(t, outside); uid != testIDs.UID {
		t.Errorf("reclaim followed a symlink out of the tree: %s is owned by %d", outside, uid)
	}
}
