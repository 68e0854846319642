package treediff

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCompare(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	same := map[string]string{"bin/tool": "ELF", "share/doc/README": "hi", "lib/libx.so": "->libx.so.1"}
	write(t, a, same)
	write(t, b, same)
	ta, err := Read(a)
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := Read(b)
	if d := Compare(ta, tb); len(d) != 0 {
		t.Fatalf("identical trees differ: %v", d)
	}

	write(t, a, map[string]string{"share/stamp": "built at 10:00", "only-a": "x", "lib/libz.so": "->libz.so.1"})
	write(t, b, map[string]string{"share/stamp": "built at 10:01", "only-b": "x", "lib/libz.so": "->libz.so.2"})
	os.Chmod(filepath.Join(b, "bin/tool"), 0o755)
	ta, _ = Read(a)
	tb, _ = Read(b)
	got := Compare(ta, tb)
	want := []struct{ path, what string }{
		{"bin/tool", "mode"}, {"lib/libz.so", "symlink target"}, {"only-a", "only in A"}, {"only-b", "only in B"}, {"share/stamp", "contents"},
	}
	if len(got) != len(want) {
		t.Fatalf("Compare = %v, want %v", got, want)
	}
	for i, w := range want {
		if got[i].Path != w.path || got[i].What != w.what {
			t.Errorf("difference %d = %s (%s), want %s (%s)", i, got[i].Path, got[i].What, w.path, w.what)
		}
	}
	if s := got[4].String(); !strings.Contains(s, "share/stamp: contents differs") {
		t.Errorf("String() = %q", s)
	}
	// A symlink to a directory is an entry, not a way into it.
	write(t, a, map[string]string{"etc-link": "->/etc"})
	ta, _ = Read(a)
	for p := range ta {
		if strings.HasPrefix(p, "etc-link/") {
			t.Fatalf("Read followed a symlink: %s", p)
		}
	}
}
