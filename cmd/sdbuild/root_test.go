package main

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestPickDaemon(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "sdbuild.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	plain := filepath.Join(dir, "not-a-socket")
	if err := os.WriteFile(plain, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		user, system bool
		euid         int
		socket       string
		want         bool
		wantErr      bool
	}{
		{"root means the system daemon", false, false, 0, sock, false, false},
		{"a user with a user daemon", false, false, 1000, sock, true, false},
		{"a user without one", false, false, 1000, filepath.Join(dir, "missing"), false, false},
		{"a file that is no socket", false, false, 1000, plain, false, false},
		{"--system wins over the socket", false, true, 1000, sock, false, false},
		{"--user as root", true, false, 0, filepath.Join(dir, "missing"), true, false},
		{"both flags", true, true, 1000, sock, false, true},
		{"a local action as a user", false, false, 1000, "", true, false},
		{"a local action as root", false, false, 0, "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pickDaemon(tc.user, tc.system, tc.euid, tc.socket)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("pickDaemon = %v, %v; want %v (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
