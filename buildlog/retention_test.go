package buildlog

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPrune(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	const n = 3000
	for i := range n {
		p := logPath(dir, fmt.Sprintf("%012x", i))
		if err := os.WriteFile(p, []byte("line\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		// Log i was last written i minutes ago.
		at := now.Add(-time.Duration(i) * time.Minute)
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	// Not logs: kept whatever their age.
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600)
	os.Symlink("/etc/passwd", filepath.Join(dir, "planted-link.log"))
	old := now.Add(-2 * time.Hour)
	for _, p := range []string{filepath.Join(dir, "notes.txt")} {
		os.Chtimes(p, old, old)
	}
	active := fmt.Sprintf("%012x", 2999) // the oldest log, of a running build
	got, bytes, err := Prune(dir, now.Add(-1000*time.Minute-time.Second), func(id string) bool { return id == active })
	if err != nil {
		t.Fatal(err)
	}
	// Logs 1001…2999 are older than the cut; one of them is active.
	if want := n - 1001 - 1; got != want || bytes != int64(want*5) {
		t.Errorf("Prune = %d logs, %d bytes; want %d, %d", got, bytes, want, want*5)
	}
	for _, keep := range []string{logPath(dir, active), logPath(dir, fmt.Sprintf("%012x", 1000)), filepath.Join(dir, "notes.txt"), filepath.Join(dir, "planted-link.log")} {
		if _, err := os.Lstat(keep); err != nil {
			t.Errorf("%s: %v, want kept", keep, err)
		}
	}
	if err := Remove(dir, fmt.Sprintf("%012x", 0)); err != nil {
		t.Errorf("Remove: %v", err)
	}
	if err := Remove(dir, fmt.Sprintf("%012x", 0)); err != nil {
		t.Errorf("Remove of a removed log: %v, want nil", err)
	}
	if _, err := Open(dir, fmt.Sprintf("%012x", 0)); err == nil {
		t.Error("Open after Remove found the log")
	}
}
