package outputs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestCopyRefusesSourceRoot checks that src itself must be a real directory:
// a build that replaced its output with a symlink does not get the link's
// target copied.
func TestCopyRefusesSourceRoot(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, src string)
	}{
		{"symlink to directory", func(t *testing.T, src string) {
			target := filepath.Join(filepath.Dir(src), "real")
			writeFile(t, filepath.Join(target, "f"), "x", 0o644)
			symlink(t, target, src)
		}},
		{"symlink to /etc", func(t *testing.T, src string) { symlink(t, "/etc", src) }},
		{"regular file", func(t *testing.T, src string) { writeFile(t, src, "x", 0o644) }},
		{"missing", func(t *testing.T, src string) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "out")
			tt.setup(t, src)
			dst := filepath.Join(ownerDir(t), "result")
			err := Copy(src, dst, testOwner)
			if err == nil || !strings.Contains(err.Error(), "output source "+src) {
				t.Errorf("Copy(%s) = %v, want an error naming the source", tt.name, err)
			}
			assertNoOutput(t, dst)
		})
	}
}

// TestCopyUnsupported checks that one entry of a refused type fails the whole
// Copy, names the entry, and leaves neither dst nor a temporary directory.
func TestCopyUnsupported(t *testing.T) {
	testutil.RequireRoot(t, "mknod of devices, and chown of the entries copied before the failure")
	tests := []struct {
		name, kind string
		mode       uint32
		dev        int
	}{
		{"fifo", "named pipe", unix.S_IFIFO | 0o644, 0},
		{"socket", "socket", unix.S_IFSOCK | 0o755, 0},
		{"null", "character device", unix.S_IFCHR | 0o666, int(unix.Mkdev(1, 3))},
		{"loop", "block device", unix.S_IFBLK | 0o660, int(unix.Mkdev(7, 0))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "out")
			// Entries sorted before the bad one are copied first, so the
			// temporary tree is not empty when Copy has to clean it up.
			writeFile(t, filepath.Join(src, "a"), "a", 0o644)
			writeFile(t, filepath.Join(src, "sub", "0first"), "first", 0o644)
			if err := unix.Mknod(filepath.Join(src, "sub", tt.name), tt.mode, tt.dev); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(ownerDir(t), "result")
			err := Copy(src, dst, testOwner)
			if !errors.Is(err, ErrUnsupportedFile) {
				t.Fatalf("Copy = %v, want ErrUnsupportedFile", err)
			}
			want := "output $out/sub/" + tt.name + ": " + tt.kind + " is not allowed (only regular files, directories and symlinks)"
			if err.Error() != want {
				t.Errorf("Copy error = %q, want %q", err, want)
			}
			assertNoOutput(t, dst)
		})
	}
}

// TestCopyExists checks that an existing dst of any type is reported with
// ErrExists and left exactly as it was.
func TestCopyExists(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dst string)
		check func(t *testing.T, dst string)
	}{
		{"directory", func(t *testing.T, dst string) {
			writeFile(t, filepath.Join(dst, "mine"), "keep", 0o644)
		}, func(t *testing.T, dst string) {
			if got, err := os.ReadFile(filepath.Join(dst, "mine")); err != nil || string(got) != "keep" {
				t.Errorf("existing dst/mine = %q, %v; want %q", got, err, "keep")
			}
		}},
		{"empty directory", func(t *testing.T, dst string) { mkdir(t, dst, 0o755) },
			func(t *testing.T, dst string) {
				if got := treeEntries(t, dst); len(got) != 1 {
					t.Errorf("existing empty dst now holds %q", got)
				}
			}},
		{"file", func(t *testing.T, dst string) { writeFile(t, dst, "keep", 0o644) },
			func(t *testing.T, dst string) {
				if got, err := os.ReadFile(dst); err != nil || string(got) != "keep" {
					t.Errorf("existing dst = %q, %v; want %q", got, err, "keep")
				}
			}},
		{"dangling symlink", func(t *testing.T, dst string) { symlink(t, "nowhere", dst) },
			func(t *testing.T, dst string) {
				if got, err := os.Readlink(dst); err != nil || got != "nowhere" {
					t.Errorf("existing dst link = %q, %v; want %q", got, err, "nowhere")
				}
			}},
	}
	src := filepath.Join(t.TempDir(), "out")
	writeFile(t, filepath.Join(src, "f"), "new", 0o644)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(ownerDir(t), "result")
			tt.setup(t, dst)
			err := Copy(src, dst, testOwner)
			if !errors.Is(err, ErrExists) {
				t.Fatalf("Copy = %v, want ErrExists", err)
			}
			if want := "output " + dst + ": already exists; remove it or choose another --output"; err.Error() != want {
				t.Errorf("Copy error = %q, want %q", err, want)
			}
			tt.check(t, dst)
			assertNoTemp(t, filepath.Dir(dst))
		})
	}
}

// TestPublishRefusesExisting covers a dst that appears after Copy's first
// check, between building the tree and renaming it into place.
func TestPublishRefusesExisting(t *testing.T) {
	parent := ownerDir(t)
	writeFile(t, filepath.Join(parent, ".result.tmp", "f"), "new", 0o644)
	dst := filepath.Join(parent, "result")
	writeFile(t, filepath.Join(dst, "mine"), "keep", 0o644)
	fd, err := unix.Open(parent, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)

	d := &dest{owner: testOwner, dst: dst, base: "result", parentFd: fd, tmpBase: ".result.tmp", tmpFd: -1}
	err = d.publish()
	if !errors.Is(err, ErrExists) {
		t.Fatalf("publish = %v, want ErrExists", err)
	}
	if got, err := os.ReadFile(filepath.Join(dst, "mine")); err != nil || string(got) != "keep" {
		t.Errorf("dst/mine = %q, %v; want %q", got, err, "keep")
	}
	if _, err := os.Stat(filepath.Join(dst, "f")); !os.IsNotExist(err) {
		t.Errorf("new output merged into existing dst: Stat(dst/f) = %v", err)
	}
}

// TestCopyBadDestination covers destinations Copy cannot create.
func TestCopyBadDestination(t *testing.T) {
	src := filepath.Join(t.TempDir(), "out")
	writeFile(t, filepath.Join(src, "f"), "x", 0o644)
	tmp := ownerDir(t)
	tests := []struct {
		name, dst, wantInErr string
	}{
		{"missing parent", filepath.Join(tmp, "missing", "result"), "open its directory " + filepath.Join(tmp, "missing") + " as uid " + fmt.Sprint(testOwner.UID) + ": no such file or directory"},
		{"root", "/", "output /: not a path"},
		{"dot", ".", "output .: not a path"},
		{"dot-dot", "..", "output ..: not a path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Copy(src, tt.dst, testOwner)
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("Copy(%s) = %v, want error containing %q", tt.dst, err, tt.wantInErr)
			}
		})
	}
	if _, err := os.Lstat(filepath.Join(tmp, "missing")); !os.IsNotExist(err) {
		t.Errorf("Copy created the missing parent: %v", err)
	}
}

// TestCopyInvalidOwner checks that an owner chown(2) would ignore is refused
// before anything is created, rather than leaving the output owned by root.
func TestCopyInvalidOwner(t *testing.T) {
	src := filepath.Join(t.TempDir(), "out")
	writeFile(t, filepath.Join(src, "f"), "x", 0o644)
	for _, owner := range []Owner{{UID: -1, GID: -1}, {UID: 0, GID: -1}, {UID: 1<<32 - 1, GID: 0}} {
		dst := filepath.Join(ownerDir(t), "result")
		if err := Copy(src, dst, owner); err == nil || !strings.Contains(err.Error(), "uid and gid must be in") {
			t.Errorf("Copy(owner %v) = %v, want an invalid owner error", owner, err)
		}
		assertNoOutput(t, dst)
	}
}

// TestCopyIntoItself checks that a dst inside src fails instead of copying the
// growing temporary tree into itself.
func TestCopyIntoItself(t *testing.T) {
	testutil.RequireRoot(t, "Copy chowns the entries copied before the failure")
	src := filepath.Join(ownerDir(t), "out")
	writeFile(t, filepath.Join(src, "f"), "x", 0o644)
	if err := os.Chown(src, testOwner.UID, testOwner.GID); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(src, "result")
	err := Copy(src, dst, testOwner)
	if err == nil || !strings.Contains(err.Error(), "must not be inside the build's output") {
		t.Fatalf("Copy(%s, %s) = %v, want an inside-the-output error", src, dst, err)
	}
	assertNoOutput(t, dst)
}
