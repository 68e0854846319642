package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/fscred"
)

// TestClientInputs: init opens a client's inputs with the client's
// credentials. A path that leads, through a symlink the client planted,
// into a directory only root may enter, and a file only root may read,
// fail the setup with the input named; the planted path given as the
// caller's own (sandbox-paths) is mounted, which shows the setup is what
// refuses it. (The builder itself runs as ids that get only a file's
// "other" bits, so the root-only file would stay unreadable inside.)
func TestClientInputs(t *testing.T) {
	tmp := t.TempDir()
	for _, d := range []string{filepath.Dir(tmp), tmp} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	closed := filepath.Join(tmp, "closed")
	if err := os.MkdirAll(filepath.Join(closed, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(closed, "in", "secret"), []byte("secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(closed, filepath.Join(tmp, "link")); err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(tmp, "private")
	if err := os.WriteFile(private, []byte("private\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	client := &fscred.Cred{UID: 65534, GID: 65534}

	tests := []struct {
		name, host, script, want string
	}{
		{"through a planted link", filepath.Join(tmp, "link", "in"), "cat /in/secret", "secret"},
		{"unreadable file", private, "cat /in", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpec(t, tt.script)
			s.Client = client
			s.Inputs = append(s.Inputs, Mount{Host: tt.host, Sandbox: "/in", Client: true})
			r := runSpec(t, s)
			if !errors.Is(r.err, ErrSetup) || !strings.Contains(r.err.Error(), tt.host) || !strings.Contains(r.err.Error(), unix.EACCES.Error()) {
				t.Errorf("client input %s: err = %v, log %q; want a setup error naming it, permission denied", tt.host, r.err, r.log)
			}
			if tt.want == "" {
				return
			}
			s = newSpec(t, tt.script)
			s.Client = client
			s.Inputs = append(s.Inputs, Mount{Host: tt.host, Sandbox: "/in"})
			if got := strings.TrimSpace(mustRun(t, s)); got != tt.want {
				t.Errorf("the caller's own input %s: log = %q, want %q", tt.host, got, tt.want)
			}
		})
	}
}
