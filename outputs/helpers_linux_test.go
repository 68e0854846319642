package outputs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// testOwner uses ids no account on the test host has, so an inode owned by
// them was certainly chowned by Copy; UID and GID differ to catch a swap.
// They lie apart from every other package's test range (0xE6000000): Copy
// acts as the owner on a thread of its own, and the slots tests, running
// at the same time, kill any process holding an id of their range.
var testOwner = Owner{UID: 3858759696, GID: 3858759697}

// buildUID stands in for the unprivileged host uid a build runs as.
const buildUID = 100000

// writeFile creates path with content and exactly mode (no umask).
func writeFile(t testing.TB, path, content string, mode uint32) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := unix.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// mkdir creates path and gives it exactly mode (no umask).
func mkdir(t testing.TB, path string, mode uint32) {
	t.Helper()
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func symlink(t testing.TB, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// setMtimeNoFollow sets path's mtime without following a symlink.
func setMtimeNoFollow(t testing.TB, path string, mtime time.Time) {
	t.Helper()
	ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, unix.NsecToTimespec(mtime.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		t.Fatal(err)
	}
}

func lstat(t testing.TB, path string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// treeEntries lists every path under root, relative to it, without
// following symlinks.
func treeEntries(t testing.TB, root string) []string {
	t.Helper()
	var got []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		got = append(got, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// assertNoOutput checks that dst does not exist and that its parent holds no
// temporary directory left behind by Copy.
func assertNoOutput(t testing.TB, dst string) {
	t.Helper()
	if _, err := os.Lstat(dst); !os.IsNotExist(err) {
		t.Errorf("Lstat(%s) = %v, want not exist", dst, err)
	}
	assertNoTemp(t, filepath.Dir(dst))
}

func assertNoTemp(t testing.TB, parent string) {
	t.Helper()
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".sdbuild-") {
			t.Errorf("temporary directory %s left in %s", e.Name(), parent)
		}
	}
}

func init() {
	// Without root, Copy can give outputs only to the caller, and
	// resolves the destination as the caller.
	if os.Geteuid() != 0 {
		testOwner = Owner{UID: os.Geteuid(), GID: os.Getegid()}
	}
}

// ownerDir returns a fresh directory that testOwner owns and can reach,
// for outputs: Copy creates them with the owner's credentials.
func ownerDir(t testing.TB) string {
	t.Helper()
	return testutil.OwnedDir(t, testOwner.UID, testOwner.GID)
}
