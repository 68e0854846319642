package fscred

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// nobody is a uid and gid no file of the test belongs to.
const nobody = 65534

func TestDoChecksAsTheUser(t *testing.T) {
	testutil.RequireRoot(t, "switches a thread's file-system ids")
	dir := t.TempDir()
	closed := filepath.Join(dir, "closed")
	open := filepath.Join(dir, "open")
	if err := os.Mkdir(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(open, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	searchable(t, dir)
	as := Cred{UID: nobody, GID: nobody}
	err := Do(as, func() error { return unix.Mkdir(filepath.Join(closed, "x"), 0o755) })
	if !errors.Is(err, unix.EACCES) {
		t.Errorf("mkdir in root's 0700 directory as nobody = %v, want EACCES", err)
	}
	if err := Do(as, func() error { return unix.Mkdir(filepath.Join(open, "x"), 0o755) }); err != nil {
		t.Fatalf("mkdir in nobody's directory as nobody: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(open, "x"), &st); err != nil || st.Uid != nobody || st.Gid != nobody {
		t.Errorf("created directory: owner %d:%d (%v), want %d:%d", st.Uid, st.Gid, err, nobody, nobody)
	}
	// The caller's own thread is untouched: root still reaches everything.
	if err := unix.Mkdir(filepath.Join(closed, "y"), 0o755); err != nil {
		t.Errorf("mkdir as root after Do: %v", err)
	}
}

func TestDoGroups(t *testing.T) {
	testutil.RequireRoot(t, "switches a thread's file-system ids")
	dir := t.TempDir()
	searchable(t, dir)
	grp := filepath.Join(dir, "grp")
	if err := os.Mkdir(grp, 0o770); err != nil {
		t.Fatal(err)
	}
	const group = 4242
	if err := os.Chown(grp, 0, group); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(grp, 0o770); err != nil { // past the umask
		t.Fatal(err)
	}
	mk := func() error { return unix.Mkdir(filepath.Join(grp, "x"), 0o755) }
	if err := Do(Cred{UID: nobody, GID: nobody}, mk); !errors.Is(err, unix.EACCES) {
		t.Errorf("mkdir without the directory's group = %v, want EACCES", err)
	}
	if err := Do(Cred{UID: nobody, GID: nobody, Groups: []int{group}}, mk); err != nil {
		t.Errorf("mkdir with the directory's group as a supplementary group: %v", err)
	}
}

// searchable lets everyone search dir and the directories t.TempDir made
// above it.
func searchable(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDoOnThreadRestores(t *testing.T) {
	testutil.RequireRoot(t, "switches a thread's file-system ids")
	dir := t.TempDir()
	searchable(t, dir)
	closed := filepath.Join(dir, "closed")
	if err := os.Mkdir(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		before, _ := unix.Getgroups()
		err := DoOnThread(Cred{UID: nobody, GID: nobody, Groups: []int{4242}}, func() error {
			return unix.Mkdir(filepath.Join(closed, "x"), 0o755)
		})
		if !errors.Is(err, unix.EACCES) {
			t.Errorf("mkdir in root's 0700 directory as nobody = %v, want EACCES", err)
		}
		if err := unix.Mkdir(filepath.Join(closed, "y"), 0o755); err != nil {
			t.Errorf("mkdir as root on the same thread after DoOnThread: %v", err)
		}
		after, _ := unix.Getgroups()
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("groups after DoOnThread = %v, want %v", after, before)
		}
	}()
	<-done
}
