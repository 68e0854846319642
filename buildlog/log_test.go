package buildlog

import (
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newLog creates a log in a fresh directory with a recorder for a journal.
func newLog(t *testing.T, id, unit string) (*Log, *recorder) {
	t.Helper()
	rec := &recorder{}
	l, err := create(t.TempDir(), id, unit, rec)
	if err != nil {
		t.Fatalf("create(%q, %q) = %v", id, unit, err)
	}
	return l, rec
}

func write(t *testing.T, l *Log, s string) {
	t.Helper()
	if n, err := l.Write([]byte(s)); n != len(s) || err != nil {
		t.Fatalf("Write(%q) = %d, %v, want %d, nil", s, n, err, len(s))
	}
}

func TestCreatePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "logs")
	l, err := create(dir, "b1", "", &recorder{})
	if err != nil {
		t.Fatalf("create = %v", err)
	}
	defer l.Close()
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o700 | os.ModeDir}, {filepath.Join(dir, "b1.log"), 0o600}} {
		st, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != c.want {
			t.Errorf("mode of %s = %v, want %v", c.path, st.Mode(), c.want)
		}
	}
	if l.Path() != filepath.Join(dir, "b1.log") {
		t.Errorf("Path() = %q, want %q", l.Path(), filepath.Join(dir, "b1.log"))
	}
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "taken.log"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "planted.log")); err != nil {
		t.Fatal(err)
	}
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, id string
		want          error // nil: any error
	}{
		{"log exists", dir, "taken", ErrExists},
		{"symlink at the log's path", dir, "planted", ErrExists},
		{"empty id", dir, "", ErrInvalidID},
		{"id with slash", dir, "../x", ErrInvalidID},
		{"id with dot", dir, "a.b", ErrInvalidID},
		{"dir is a file", notDir, "b1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := create(tt.dir, tt.id, "", &recorder{})
			if err == nil {
				l.Close()
				t.Fatalf("create(%q, %q) = nil error", tt.dir, tt.id)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("create(%q, %q) = %v, want %v", tt.dir, tt.id, err, tt.want)
			}
		})
	}
}

// TestWrite: the file gets the bytes exactly as written; the journal gets
// one entry per line with the build's fields, the unit from when the line
// was completed, and the partial last line at Close.
func TestWrite(t *testing.T) {
	l, rec := newLog(t, "b1", "")
	write(t, l, "first\nsec")
	l.SetUnit("sdbuild-b1.scope")
	write(t, l, "ond\n\xff\x00bin\n\nlast")
	if err := l.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}

	data, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	if want := "first\nsecond\n\xff\x00bin\n\nlast"; string(data) != want {
		t.Errorf("file = %q, want %q", data, want)
	}

	noUnit := map[string]string{"SYSLOG_IDENTIFIER": "sdbuild", "SDBUILD_ID": "b1"}
	withUnit := map[string]string{"SYSLOG_IDENTIFIER": "sdbuild", "SDBUILD_ID": "b1", "OBJECT_SYSTEMD_UNIT": "sdbuild-b1.scope"}
	want := []entry{{"first", noUnit}, {"second", withUnit}, {"\xff\x00bin", withUnit}, {"", withUnit}, {"last", withUnit}}
	checkEntries(t, rec.got(), want)
}

func TestSetUnitCleared(t *testing.T) {
	l, rec := newLog(t, "b2", "u.scope")
	write(t, l, "a\n")
	l.SetUnit("")
	write(t, l, "b\n")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	checkEntries(t, rec.got(), []entry{
		{"a", map[string]string{"SYSLOG_IDENTIFIER": "sdbuild", "SDBUILD_ID": "b2", "OBJECT_SYSTEMD_UNIT": "u.scope"}},
		{"b", map[string]string{"SYSLOG_IDENTIFIER": "sdbuild", "SDBUILD_ID": "b2"}},
	})
}

func TestLongLineToJournal(t *testing.T) {
	l, rec := newLog(t, "b3", "")
	long := strings.Repeat("x", maxLine+10)
	write(t, l, long+"\n")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got := rec.got()
	if len(got) != 2 || got[0].msg != long[:maxLine] || got[1].msg != long[maxLine:] {
		t.Errorf("a %d-byte line became %d entries, want pieces of %d and 10 bytes", len(long), len(got), maxLine)
	}
}

func checkEntries(t *testing.T, got, want []entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("journal got %d entries %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i].msg != want[i].msg || !maps.Equal(got[i].fields, want[i].fields) {
			t.Errorf("entry %d = %q %v, want %q %v", i, got[i].msg, got[i].fields, want[i].msg, want[i].fields)
		}
	}
}

func TestClosed(t *testing.T) {
	l, _ := newLog(t, "b4", "")
	if err := l.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if n, err := l.Write([]byte("x\n")); n != 0 || !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %d, %v, want 0, %v", n, err, ErrClosed)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want %v", err, ErrClosed)
	}
}

// TestJournalFailure: a journal that refuses lines costs the journal copy,
// never the file or the build's Write.
func TestJournalFailure(t *testing.T) {
	sendErr := errors.New("journald went away")
	l, rec := newLog(t, "b5", "")
	rec.fail = sendErr
	write(t, l, "a\nb\nc")
	err := l.Close()
	if !errors.Is(err, ErrJournal) || !errors.Is(err, sendErr) {
		t.Errorf("Close = %v, want an error wrapping %v and %v", err, ErrJournal, sendErr)
	}
	if err != nil && !strings.Contains(err.Error(), "3 of 3 entries") {
		t.Errorf("Close = %v, want it to count 3 of 3 entries lost", err)
	}
	data, rerr := os.ReadFile(l.Path())
	if rerr != nil || string(data) != "a\nb\nc" {
		t.Errorf("file = %q, %v, want %q", data, rerr, "a\nb\nc")
	}
}

// TestNoJournal: without journald the file and followers work as ever.
func TestNoJournal(t *testing.T) {
	l, err := create(t.TempDir(), "b6", "u.scope", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := l.Follow(t.Context())
	defer r.Close()
	write(t, l, "a\nb\npartial")
	if err := l.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "a\nb\npartial" {
		t.Errorf("follower read %q, %v, want %q", got, err, "a\nb\npartial")
	}
}
