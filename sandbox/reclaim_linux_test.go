package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestReclaim gives a tree a hostile build left back to the caller:
// entries owned by the build's ids, directories and files without
// permission, a setuid file, and links pointing out of the tree, which
// must not be followed. The walk runs here as host root, where every id is
// mapped, as in init's namespace with subordinate ids; then once more
// through Reclaim's own helper (a user namespace mapping 0 to 0).
func TestReclaim(t *testing.T) {
	testutil.RequireRoot(t, "its helper maps root into a user namespace")
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "victim")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(outside, []byte("v"), 0o600))
	must(os.Chown(outside, 7, 7))
	must(os.MkdirAll(filepath.Join(dir, "out", "locked", "deep"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "out", "locked", "deep", "f"), []byte("x"), 0o000))
	must(os.WriteFile(filepath.Join(dir, "out", "suid"), []byte("#!/bin/sh\n"), 0o755))
	must(os.Symlink(outside, filepath.Join(dir, "out", "link")))
	must(os.Symlink(filepath.Dir(outside), filepath.Join(dir, "out", "dirlink")))
	must(syscall.Mkfifo(filepath.Join(dir, "out", "fifo"), 0o600))
	must(os.Chmod(filepath.Join(dir, "out", "suid"), 0o4755))
	must(os.Chmod(filepath.Join(dir, "out", "locked"), 0o000))
	// Read-only outputs keep their modes: only what copying needs is added.
	must(os.Mkdir(filepath.Join(dir, "out", "ro"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "out", "ro", "f"), []byte("r"), 0o444))
	must(os.Chmod(filepath.Join(dir, "out", "ro"), 0o555))
	// Scratch is made deletable.
	must(os.MkdirAll(filepath.Join(dir, "build", "x"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "build", "x", "f"), nil, 0o000))
	must(os.Chmod(filepath.Join(dir, "build", "x"), 0o000))
	// Everything the build made is its own ids'.
	must(filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		return os.Lchown(p, 100000, 100000)
	}))

	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	must(err)
	must(reclaimBuildDir(fd, dir))
	checkReclaimed(t, dir, outside)

	// Reclaim's helper, run again over the reclaimed tree, changes nothing
	// that matters and keeps to the tree.
	s := &Spec{Dir: dir, HostID: 1, IDCount: 1, UserNS: &UserNS{UID: 0, GID: 0}}
	must(Reclaim(s))
	checkReclaimed(t, dir, outside)
}

// checkReclaimed asserts that everything under dir is the caller's (0:0)
// with the owner permissions reclaiming adds, read-only outputs kept, and
// that the link targets outside were not touched.
func checkReclaimed(t *testing.T, dir, outside string) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != 0 || st.Gid != 0 {
			t.Errorf("%s: owned by %d:%d after Reclaim, want 0:0", p, st.Uid, st.Gid)
		}
		rel, _ := filepath.Rel(dir, p)
		wantDir, wantFile := os.FileMode(0o700), os.FileMode(0o600)
		if rel == "out" || strings.HasPrefix(rel, "out/") {
			wantDir, wantFile = 0o500, 0o400
		}
		switch {
		case fi.IsDir() && fi.Mode().Perm()&wantDir != wantDir:
			t.Errorf("%s: mode %v, want the owner to have %v", rel, fi.Mode(), wantDir)
		case fi.Mode().IsRegular() && fi.Mode().Perm()&wantFile != wantFile:
			t.Errorf("%s: mode %v, want the owner to have %v", rel, fi.Mode(), wantFile)
		case fi.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0:
			t.Errorf("%s: mode %v kept setuid/setgid", rel, fi.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{"out/ro": 0o555, "out/ro/f": 0o444} {
		if fi, err := os.Lstat(filepath.Join(dir, p)); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v kept", p, fi.Mode().Perm(), err, want)
		}
	}
	var st syscall.Stat_t
	if err := syscall.Stat(outside, &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 7 || st.Mode&0o777 != 0o600 {
		t.Errorf("the link's target outside the tree changed: uid %d mode %o", st.Uid, st.Mode&0o777)
	}
	if err := syscall.Stat(filepath.Dir(outside), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 0 {
		t.Errorf("a linked directory outside the tree changed owner to %d", st.Uid)
	}
}

// Reclaim does nothing for a root caller, who reads and deletes anything.
func TestReclaimRootCaller(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o000); err != nil {
		t.Fatal(err)
	}
	if err := Reclaim(&Spec{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "d"))
	if err != nil || fi.Mode().Perm() != 0 {
		t.Errorf("Reclaim without UserNS changed %s: %v %v", dir, fi.Mode(), err)
	}
}
