package outputs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestSwappedEntry replaces a source entry between the fstatat that chose how
// to copy it and the open that copies it, the window CVE-2021-27851 used. The
// copy must fail without following the swapped-in entry or blocking on it.
func TestSwappedEntry(t *testing.T) {
	testutil.RequireRoot(t, "the copy chowns to an arbitrary uid")
	tests := []struct {
		name    string
		create  func(t *testing.T, p string)
		swap    func(t *testing.T, p, outside string)
		subdir  bool
		wantErr error
	}{
		{"file for fifo", func(t *testing.T, p string) { writeFile(t, p, "x", 0o644) },
			func(t *testing.T, p, _ string) {
				if err := unix.Mkfifo(p, 0o644); err != nil {
					t.Fatal(err)
				}
			}, false, ErrChanged},
		{"file for other file", func(t *testing.T, p string) { writeFile(t, p, "x", 0o644) },
			func(t *testing.T, p, _ string) { writeFile(t, p, "other", 0o4755) }, false, ErrChanged},
		{"file for symlink", func(t *testing.T, p string) { writeFile(t, p, "x", 0o644) },
			func(t *testing.T, p, outside string) { symlink(t, filepath.Join(outside, "secret"), p) }, false, unix.ELOOP},
		{"file for directory", func(t *testing.T, p string) { writeFile(t, p, "x", 0o644) },
			func(t *testing.T, p, _ string) { mkdir(t, p, 0o755) }, false, ErrChanged},
		{"directory for symlink", func(t *testing.T, p string) { mkdir(t, p, 0o755) },
			// O_DIRECTORY on a symlink fails with ENOTDIR before O_NOFOLLOW's ELOOP.
			func(t *testing.T, p, outside string) { symlink(t, outside, p) }, true, unix.ENOTDIR},
		{"directory for other directory", func(t *testing.T, p string) { mkdir(t, p, 0o755) },
			func(t *testing.T, p, _ string) { mkdir(t, p, 0o755) }, true, ErrChanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			outside := filepath.Join(tmp, "outside")
			writeFile(t, filepath.Join(outside, "secret"), "secret", 0o600)
			src, dst := filepath.Join(tmp, "src"), filepath.Join(tmp, "dst")
			mkdir(t, src, 0o755)
			mkdir(t, dst, 0o700)
			p := filepath.Join(src, "e")
			tt.create(t, p)

			srcFd := openDir(t, src)
			dstFd := openDir(t, dst)
			var st unix.Stat_t
			if err := unix.Fstatat(srcFd, "e", &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				t.Fatal(err)
			}
			// Keep the old inode alive so the swapped-in one gets a new number.
			keep := filepath.Join(tmp, "old")
			if err := os.Rename(p, keep); err != nil {
				t.Fatal(err)
			}
			tt.swap(t, p, outside)

			c := &copier{owner: testOwner}
			var err error
			if tt.subdir {
				err = c.copySubdir(srcFd, dstFd, "e", "$out/e", &st)
			} else {
				err = c.copyFile(srcFd, dstFd, "e", "$out/e", &st)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("copy of swapped entry = %v, want %v", err, tt.wantErr)
			}
			if got := treeEntries(t, dst); len(got) != 1 {
				t.Errorf("destination holds %q, want nothing", got)
			}
			if st := lstat(t, filepath.Join(outside, "secret")); int(st.Uid) == testOwner.UID {
				t.Errorf("outside/secret was chowned through the swapped entry")
			}
		})
	}
}

// TestCopyEntryRefusesBadNames checks the guard that keeps a name from a
// hostile filesystem from steering symlinkat or mkdirat out of the
// destination: "../evil" exists next to src, and without the guard its link
// would be recreated next to dst.
func TestCopyEntryRefusesBadNames(t *testing.T) {
	tmp := t.TempDir()
	src, dst := filepath.Join(tmp, "a", "src"), filepath.Join(tmp, "b", "dst")
	mkdir(t, src, 0o755)
	mkdir(t, dst, 0o700)
	symlink(t, "/etc", filepath.Join(tmp, "a", "evil"))
	mkdir(t, filepath.Join(tmp, "a", "evildir"), 0o755)
	srcFd, dstFd := openDir(t, src), openDir(t, dst)
	c := &copier{owner: testOwner}
	for _, name := range []string{"../evil", "../evildir", "", ".", ".."} {
		if err := c.copyEntry(srcFd, dstFd, name, "$out/"+name); err == nil || !strings.Contains(err.Error(), "invalid file name") {
			t.Errorf("copyEntry(%q) = %v, want an invalid file name error", name, err)
		}
	}
	if got := treeEntries(t, filepath.Join(tmp, "b")); len(got) != 2 {
		t.Errorf("entries next to dst after refused names = %q, want only dst", got)
	}
}

// TestCopyRefusesMountPoint checks RESOLVE_NO_XDEV: a mount inside the
// output, which no dead build can have left in the host's mount namespace,
// is refused rather than copied.
func TestCopyRefusesMountPoint(t *testing.T) {
	testutil.RequireRoot(t, "mounting a tmpfs inside the source tree")
	src := filepath.Join(t.TempDir(), "out")
	mnt := filepath.Join(src, "mnt")
	mkdir(t, mnt, 0o755)
	if err := unix.Mount("sdbuild-test", mnt, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=64k"); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	writeFile(t, filepath.Join(mnt, "mounted"), "x", 0o644)

	dst := filepath.Join(ownerDir(t), "result")
	err := Copy(src, dst, testOwner)
	if !errors.Is(err, unix.EXDEV) || !strings.Contains(err.Error(), "$out/mnt: is a mount point") {
		t.Fatalf("Copy = %v, want a mount point error for $out/mnt", err)
	}
	assertNoOutput(t, dst)
}

func openDir(t *testing.T, path string) int {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}
