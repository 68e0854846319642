package config

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// A client reads the socket and nothing else: a daemon setting it cannot
// read or that is wrong is the daemon's to report, not a client's to die
// on.
func TestLoadClient(t *testing.T) {
	for _, tt := range []struct {
		name    string
		file    string // "" means no file
		env     []string
		args    []string
		want    string
		warn    string // a warning that must appear
		wantErr string
	}{
		{name: "defaults", want: "/run/sdbuild/sdbuild.sock"},
		{name: "the file's socket", file: `socket = "/f/s.sock"`, want: "/f/s.sock"},
		{name: "environment over file", file: `socket = "/f/s.sock"`, env: []string{"SDBUILD_SOCKET=/e/s.sock"}, want: "/e/s.sock"},
		{name: "flag over environment", env: []string{"SDBUILD_SOCKET=/e/s.sock"}, args: []string{"--socket", "/a/s.sock"}, want: "/a/s.sock"},
		{name: "a typo in a daemon key", file: "socket = \"/f/s.sock\"\nmax-jbos = 3\nstart-id = 0\n", want: "/f/s.sock"},
		{name: "a bad daemon value", file: "max-jobs = \"many\"\n", want: "/run/sdbuild/sdbuild.sock"},
		{name: "unknown variables", env: []string{"SDBUILD_BUILD_ID=x", "SDBUILD_JOBS=1"}, want: "/run/sdbuild/sdbuild.sock"},
		{name: "a file that does not parse", file: "socket = \n", want: "/run/sdbuild/sdbuild.sock", warn: "using socket /run/sdbuild/sdbuild.sock"},
		{name: "keys differing in case", file: "socket = \"/f/s.sock\"\nSOCKET = \"/g\"\n", want: "/f/s.sock", warn: `differ only in case`},
		{name: "a relative socket", env: []string{"SDBUILD_SOCKET=s.sock"}, wantErr: `config: socket = "s.sock" (from SDBUILD_SOCKET): must be an absolute path`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			useDefaultFile(t, "/nonexistent/sdbuild.toml")
			if tt.file != "" {
				useDefaultFile(t, writeFile(t, "sdbuild.toml", tt.file))
			}
			c, err := LoadClient(Source{Environ: tt.env, Flags: flagSet(t, tt.args...)})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("LoadClient() = %v, want error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadClient() = %v", err)
			}
			if c.Socket != tt.want {
				t.Errorf("LoadClient().Socket = %q, want %q", c.Socket, tt.want)
			}
			if w := errors.Join(c.Warnings...); (tt.warn == "") != (w == nil) || w != nil && !strings.Contains(w.Error(), tt.warn) {
				t.Errorf("LoadClient().Warnings = %v, want %q", w, tt.warn)
			}
		})
	}
}

// A root-only /etc/sdbuild/sdbuild.toml: the client uses the default
// socket and remembers the file for its connection error.
func TestLoadClientUnreadableFile(t *testing.T) {
	useDefaultFile(t, "/etc/sdbuild/root-only.toml")
	old := readConfig
	readConfig = func(string) ([]byte, error) { return nil, fs.ErrPermission }
	t.Cleanup(func() { readConfig = old })
	c, err := LoadClient(Source{})
	if err != nil || c.Socket != "/run/sdbuild/sdbuild.sock" || c.Unread != "/etc/sdbuild/root-only.toml" {
		t.Fatalf("LoadClient() = %+v, %v; want the default socket and Unread set", c, err)
	}
	// The daemon's Load still fails on it.
	if _, err := Load(Source{}); err == nil {
		t.Errorf("Load() of an unreadable file = nil error, want one")
	}
	// Named explicitly, it is an error for a client too.
	if _, err := LoadClient(Source{File: "/etc/sdbuild/root-only.toml"}); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("LoadClient of a named unreadable file = %v, want ErrPermission", err)
	}
}

func TestLoadClientUser(t *testing.T) {
	alice := &Account{Name: "alice", UID: 1000, GID: 100, Home: "/home/alice"}
	c, err := LoadClient(Source{User: alice, Environ: []string{"XDG_RUNTIME_DIR=/run/user/1000", "XDG_CONFIG_HOME=/nonexistent"}})
	if err != nil || c.Socket != "/run/user/1000/sdbuild/sdbuild.sock" {
		t.Errorf("LoadClient(alice) = %+v, %v; want her runtime directory's socket", c, err)
	}
}
