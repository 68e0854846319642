package outputs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestCopyTree copies a tree of every supported type and checks each entry's
// type, mode, content or target, owner and mtime.
func TestCopyTree(t *testing.T) {
	testutil.RequireRoot(t, "Copy chowns every inode to an arbitrary uid")
	src := filepath.Join(t.TempDir(), "out")
	dst := filepath.Join(ownerDir(t), "result")

	base := time.Date(2001, 2, 3, 4, 5, 6, 789000000, time.UTC)
	tests := []struct {
		path    string
		typ     uint32
		mode    uint32 // in src; 0 for symlinks
		want    uint32 // in dst
		content string // file content or symlink target
	}{
		{".", unix.S_IFDIR, 0o775, 0o755, ""},
		{"a.txt", unix.S_IFREG, 0o644, 0o644, "alpha\n"},
		{"bin", unix.S_IFDIR, 0o755, 0o755, ""},
		{"bin/tool", unix.S_IFREG, 0o755, 0o755, "#!/bin/sh\necho tool\n"},
		{"empty", unix.S_IFDIR, 0o700, 0o700, ""},
		{"emptyfile", unix.S_IFREG, 0o400, 0o400, ""},
		{"lib", unix.S_IFDIR, 0o555, 0o555, ""},
		{"lib/deep", unix.S_IFDIR, 0o750, 0o750, ""},
		{"lib/deep/x", unix.S_IFREG, 0o600, 0o600, string(make([]byte, 1<<20))},
		{"rel", unix.S_IFLNK, 0, 0o777, "a.txt"},
		{"lib/up", unix.S_IFLNK, 0, 0o777, "../bin/tool"},
	}
	// Create parents before children and make read-only dirs so afterwards.
	for _, tt := range tests {
		p := filepath.Join(src, tt.path)
		switch tt.typ {
		case unix.S_IFDIR:
			mkdir(t, p, 0o700)
		case unix.S_IFREG:
			writeFile(t, p, tt.content, tt.mode)
		case unix.S_IFLNK:
			symlink(t, tt.content, p)
		}
	}
	for i, tt := range slices.Backward(tests) {
		p := filepath.Join(src, tt.path)
		if tt.typ == unix.S_IFDIR {
			if err := unix.Chmod(p, tt.mode); err != nil {
				t.Fatal(err)
			}
		}
		// The build's uid owns its tree; Copy must not carry it over.
		if err := os.Lchown(p, buildUID, buildUID); err != nil {
			t.Fatal(err)
		}
		setMtimeNoFollow(t, p, base.Add(time.Duration(i)*time.Hour))
	}

	if err := Copy(src, dst, testOwner); err != nil {
		t.Fatalf("Copy(%s, %s) = %v", src, dst, err)
	}

	for i, tt := range tests {
		p := filepath.Join(dst, tt.path)
		st := lstat(t, p)
		if st.Mode&unix.S_IFMT != tt.typ {
			t.Errorf("%s: type %#o, want %#o", tt.path, st.Mode&unix.S_IFMT, tt.typ)
			continue
		}
		if got := st.Mode & 0o7777; got != tt.want {
			t.Errorf("%s: mode %#o, want %#o", tt.path, got, tt.want)
		}
		if int(st.Uid) != testOwner.UID || int(st.Gid) != testOwner.GID {
			t.Errorf("%s: owner %d:%d, want %d:%d", tt.path, st.Uid, st.Gid, testOwner.UID, testOwner.GID)
		}
		if got, want := time.Unix(st.Mtim.Unix()), base.Add(time.Duration(i)*time.Hour); !got.Equal(want) {
			t.Errorf("%s: mtime %v, want %v", tt.path, got, want)
		}
		switch tt.typ {
		case unix.S_IFREG:
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.content {
				t.Errorf("%s: content differs (%d bytes, want %d)", tt.path, len(got), len(tt.content))
			}
		case unix.S_IFLNK:
			if got, err := os.Readlink(p); err != nil || got != tt.content {
				t.Errorf("Readlink(%s) = %q, %v; want %q", tt.path, got, err, tt.content)
			}
		}
	}

	var want []string
	for _, tt := range tests {
		want = append(want, tt.path)
	}
	slices.Sort(want)
	if got := treeEntries(t, dst); !slices.Equal(got, want) {
		t.Errorf("copied entries = %q, want %q", got, want)
	}
	assertNoTemp(t, filepath.Dir(dst))
}

// TestCopyStripsModes checks Nix 1.11.10's lesson on real inodes: no output is
// setuid, setgid, sticky, or writable by group or world.
func TestCopyStripsModes(t *testing.T) {
	testutil.RequireRoot(t, "Copy chowns every inode to an arbitrary uid")
	tests := []struct {
		name string
		dir  bool
		mode uint32
		want uint32
	}{
		{"setuid", false, 0o4755, 0o755},
		{"setgid", false, 0o2755, 0o755},
		{"setuid-setgid-nox", false, 0o6644, 0o644},
		{"group-write", false, 0o664, 0o644},
		{"world-write", false, 0o666, 0o644},
		{"all", false, 0o7777, 0o755},
		{"plain", false, 0o640, 0o640},
		{"setgid-dir", true, 0o2775, 0o755},
		{"sticky-dir", true, 0o1777, 0o755},
		{"world-dir", true, 0o777, 0o755},
	}
	src := filepath.Join(t.TempDir(), "out")
	mkdir(t, src, 0o755)
	for _, tt := range tests {
		p := filepath.Join(src, tt.name)
		if tt.dir {
			mkdir(t, p, tt.mode)
		} else {
			writeFile(t, p, "x", tt.mode)
		}
		if got := lstat(t, p).Mode & 0o7777; got != tt.mode {
			t.Fatalf("setup: %s has mode %#o, want %#o", tt.name, got, tt.mode)
		}
	}
	dst := filepath.Join(ownerDir(t), "result")
	if err := Copy(src, dst, testOwner); err != nil {
		t.Fatalf("Copy = %v", err)
	}
	for _, tt := range tests {
		if got := lstat(t, filepath.Join(dst, tt.name)).Mode & 0o7777; got != tt.want {
			t.Errorf("%s: copied mode %#o from %#o, want %#o", tt.name, got, tt.mode, tt.want)
		}
	}
}

// TestCopySymlinksNotFollowed copies links that point out of the tree, at
// nothing, and at themselves: each must arrive as the same link text, and
// nothing they point at may be copied or chowned.
func TestCopySymlinksNotFollowed(t *testing.T) {
	testutil.RequireRoot(t, "Copy chowns every inode to an arbitrary uid")
	tmp := ownerDir(t)
	outside := filepath.Join(tmp, "outside")
	mkdir(t, outside, 0o711)
	writeFile(t, filepath.Join(outside, "secret"), "secret", 0o600)
	src := filepath.Join(tmp, "out")
	mkdir(t, src, 0o755)

	links := []struct{ name, target string }{
		{"etc", "/etc"},
		{"passwd", "/etc/passwd"},
		{"dangling", "/nonexistent/sdbuild-test"},
		{"up", "../outside"},
		{"upfile", "../outside/secret"},
		{"loop", "loop"},
	}
	for _, l := range links {
		symlink(t, l.target, filepath.Join(src, l.name))
	}
	passwdBefore := lstat(t, "/etc/passwd")
	outsideBefore := lstat(t, outside)
	secretBefore := lstat(t, filepath.Join(outside, "secret"))

	dst := filepath.Join(tmp, "result")
	if err := Copy(src, dst, testOwner); err != nil {
		t.Fatalf("Copy = %v", err)
	}

	want := []string{"."}
	for _, l := range links {
		want = append(want, l.name)
		p := filepath.Join(dst, l.name)
		st := lstat(t, p)
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			t.Errorf("%s: type %#o, want symlink", l.name, st.Mode&unix.S_IFMT)
			continue
		}
		if got, _ := os.Readlink(p); got != l.target {
			t.Errorf("Readlink(%s) = %q, want %q", l.name, got, l.target)
		}
		if int(st.Uid) != testOwner.UID || int(st.Gid) != testOwner.GID {
			t.Errorf("%s: link owner %d:%d, want %d:%d", l.name, st.Uid, st.Gid, testOwner.UID, testOwner.GID)
		}
	}
	slices.Sort(want)
	if got := treeEntries(t, dst); !slices.Equal(got, want) {
		t.Errorf("copied entries = %q, want only the links %q", got, want)
	}

	for _, c := range []struct {
		path   string
		before unix.Stat_t
	}{{"/etc/passwd", passwdBefore}, {outside, outsideBefore}, {filepath.Join(outside, "secret"), secretBefore}} {
		after := lstat(t, c.path)
		if after.Uid != c.before.Uid || after.Gid != c.before.Gid || after.Mode != c.before.Mode {
			t.Errorf("%s changed through a link: %d:%d %#o, was %d:%d %#o",
				c.path, after.Uid, after.Gid, after.Mode, c.before.Uid, c.before.Gid, c.before.Mode)
		}
	}
}

// TestCopyHardLinks checks that two names for one inode in the build become
// two independent inodes, so one cannot be changed through the other.
func TestCopyHardLinks(t *testing.T) {
	testutil.RequireRoot(t, "Copy chowns every inode to an arbitrary uid")
	src := filepath.Join(t.TempDir(), "out")
	writeFile(t, filepath.Join(src, "a"), "shared", 0o644)
	if err := os.Link(filepath.Join(src, "a"), filepath.Join(src, "b")); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(ownerDir(t), "result")
	if err := Copy(src, dst, testOwner); err != nil {
		t.Fatalf("Copy = %v", err)
	}
	a, b := lstat(t, filepath.Join(dst, "a")), lstat(t, filepath.Join(dst, "b"))
	if a.Ino == b.Ino {
		t.Errorf("a and b share inode %d, want two files", a.Ino)
	}
	if a.Nlink != 1 || b.Nlink != 1 {
		t.Errorf("link counts %d and %d, want 1 and 1", a.Nlink, b.Nlink)
	}
	if err := os.WriteFile(filepath.Join(dst, "a"), []byte("changed"), 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "b")); string(got) != "shared" {
		t.Errorf("b = %q after writing a, want %q", got, "shared")
	}
}

// TestCopyUnreadableDir checks that a directory the build made mode 0000 is
// still copied, contents and mode included.
func TestCopyUnreadableDir(t *testing.T) {
	testutil.RequireRoot(t, "reading a mode 0000 directory needs CAP_DAC_READ_SEARCH")
	src := filepath.Join(t.TempDir(), "out")
	writeFile(t, filepath.Join(src, "locked", "secret"), "hidden", 0o000)
	mkdir(t, filepath.Join(src, "locked", "inner"), 0o000)
	mkdir(t, filepath.Join(src, "locked"), 0o000)
	dst := filepath.Join(ownerDir(t), "result")
	if err := Copy(src, dst, testOwner); err != nil {
		t.Fatalf("Copy = %v", err)
	}
	for _, p := range []string{"locked", "locked/secret", "locked/inner"} {
		if got := lstat(t, filepath.Join(dst, p)).Mode & 0o7777; got != 0 {
			t.Errorf("%s: mode %#o, want 0", p, got)
		}
	}
	if got, err := os.ReadFile(filepath.Join(dst, "locked", "secret")); err != nil || string(got) != "hidden" {
		t.Errorf("locked/secret = %q, %v; want %q", got, err, "hidden")
	}
}
