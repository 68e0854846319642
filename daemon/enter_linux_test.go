package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/config"
)

func TestEntryID(t *testing.T) {
	tests := []struct {
		idMap           string
		inside, outside uint32
		wantErr         bool
	}{
		{"      1000  872415232          1\n", 1000, 872415232, false}, // a single-id build's uid_map
		{"       100  872415232          1\n", 100, 872415232, false},  // its gid_map
		{"         0  872415232      65536\n", 0, 872415232, false},    // uid-range
		{"1000 5 1\n0 7 1\n", 0, 7, false},                             // root wins wherever it is
		{"", 0, 0, true},
		{"1000 5\n", 0, 0, true},
		{"1000 5 0\n", 0, 0, true},
		{"x 5 1\n", 0, 0, true},
		{"1000 4294967296 1\n", 0, 0, true},
	}
	for _, tt := range tests {
		in, out, err := entryID(tt.idMap)
		if in != tt.inside || out != tt.outside || (err != nil) != tt.wantErr {
			t.Errorf("entryID(%q) = %d, %d, %v; want %d, %d, error %v", tt.idMap, in, out, err, tt.inside, tt.outside, tt.wantErr)
		}
	}
}

func TestProcParsing(t *testing.T) {
	for s, want := range map[string]int{"8682 \n": 8682, "12 13 14 ": 12, "": 0, " \n": 0, "x": 0, "-3": 0} {
		if got, ok := firstChild(s); got != want || ok != (want != 0) {
			t.Errorf("firstChild(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	status := "Name:\tsleep\nPPid:\t8677\nTracerPid:\t0\n"
	if v, ok := statusField(status, "PPid"); !ok || v != "8677" {
		t.Errorf("statusField(PPid) = %q, %v; want 8677", v, ok)
	}
	if v, ok := statusField(status, "Pid"); ok {
		t.Errorf("statusField(Pid) = %q, want none", v)
	}
}

func TestEnterTerm(t *testing.T) {
	tests := []struct {
		env     []string
		want    string
		wantErr string
	}{
		{nil, "", ""},
		{[]string{"TERM=xterm-256color"}, "xterm-256color", ""},
		{[]string{"TERM=a", "TERM=b"}, "b", ""},
		{[]string{"PATH=/tmp"}, "", "only TERM may be passed"},
		{[]string{"LD_PRELOAD=/x.so"}, "", "only TERM may be passed"},
		{[]string{"TERM=a b"}, "", "not a terminal type"},
		{[]string{"TERM=a\x1b"}, "", "not a terminal type"},
		{[]string{"TERM=" + strings.Repeat("x", 65)}, "", "not a terminal type"},
	}
	for _, tt := range tests {
		got, err := enterTerm(tt.env)
		if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("enterTerm(%q) = %q, %v; want %q, error %q", tt.env, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestEnterEnv(t *testing.T) {
	want := []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/homeless-shelter", "SDBUILD_BUILD_ID=0123456789ab", "TERM=vt100"}
	if got := enterEnv("0123456789ab", "vt100"); !reflect.DeepEqual(got, want) {
		t.Errorf("enterEnv = %q, want %q", got, want)
	}
	if got := enterEnv("0123456789ab", ""); !reflect.DeepEqual(got, want[:3]) {
		t.Errorf("enterEnv without TERM = %q, want %q", got, want[:3])
	}
}

func TestNsenterArgs(t *testing.T) {
	got := nsenterArgs(42, identity{uid: 1000, gid: 100, hostUID: 7, hostGID: 7}, []string{"/bin/sh", "-c", "--wd=/"})
	want := []string{"--target", "42", "--user", "--mount", "--ipc", "--uts", "--net", "--cgroup",
		"--setuid", "1000", "--setgid", "100", "--wd=/proc/42/root/build", "--", "/bin/sh", "-c", "--wd=/"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("nsenterArgs = %q, want %q", got, want)
	}
}

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	frames := []struct {
		t api.FrameType
		p []byte
	}{
		{api.FrameData, []byte("hello\n")},
		{api.FrameResize, api.ResizePayload(50, 132)},
		{api.FrameClose, nil},
		{api.FrameData, bytes.Repeat([]byte{0}, api.MaxFrame)},
		{api.FrameExit, api.ExitPayload(137)},
	}
	for _, f := range frames {
		if err := api.WriteFrame(&buf, f.t, f.p); err != nil {
			t.Fatalf("WriteFrame(%c): %v", f.t, err)
		}
	}
	for _, f := range frames {
		typ, p, err := api.ReadFrame(&buf)
		if err != nil || typ != f.t || !bytes.Equal(p, f.p) {
			t.Fatalf("ReadFrame = %c, %d bytes, %v; want %c, %d bytes", typ, len(p), err, f.t, len(f.p))
		}
	}
	if _, _, err := api.ReadFrame(&buf); err != io.EOF {
		t.Errorf("ReadFrame at the end = %v, want io.EOF", err)
	}
	if rows, cols, err := api.ParseResize(api.ResizePayload(50, 132)); rows != 50 || cols != 132 || err != nil {
		t.Errorf("ParseResize = %d, %d, %v", rows, cols, err)
	}
	for _, code := range []int{0, 3, 255} {
		if got, err := api.ParseExit(api.ExitPayload(code)); got != code || err != nil {
			t.Errorf("ParseExit(ExitPayload(%d)) = %d, %v", code, got, err)
		}
	}
	if err := api.WriteFrame(io.Discard, api.FrameData, make([]byte, api.MaxFrame+1)); !errors.Is(err, api.ErrFrameTooLarge) {
		t.Errorf("WriteFrame of MaxFrame+1 bytes = %v, want ErrFrameTooLarge", err)
	}
	for name, in := range map[string]string{
		"truncated header":  "d\x00\x00",
		"truncated payload": "d\x00\x00\x00\x05abc",
		"too large":         "d\x00\x10\x00\x01",
	} {
		if _, _, err := api.ReadFrame(strings.NewReader(in)); err == nil || err == io.EOF {
			t.Errorf("ReadFrame(%s) = %v, want an error other than io.EOF", name, err)
		}
	}
	if _, err := api.ParseExit([]byte{1}); err == nil {
		t.Error("ParseExit of 1 byte: no error")
	}
	if _, _, err := api.ParseResize(nil); err == nil {
		t.Error("ParseResize of nothing: no error")
	}
}

func TestOpenPTY(t *testing.T) {
	master, slave, err := openPTY(30, 100)
	if err != nil {
		t.Skipf("no pty here: %v", err) // /dev/ptmx is there on every machine sdbuild runs on
	}
	defer master.Close()
	defer slave.Close()
	ws, err := unix.IoctlGetWinsize(int(slave.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Row != 30 || ws.Col != 100 {
		t.Errorf("window size %+v, %v; want 30x100", ws, err)
	}
	if _, err := master.Write([]byte("hi\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, err := slave.Read(buf); err != nil || string(buf[:n]) != "hi\n" {
		t.Errorf("slave read %q, %v; want the master's line", buf[:n], err)
	}
	setWinsize(master, 40, 120)
	if ws, err := unix.IoctlGetWinsize(int(slave.Fd()), unix.TIOCGWINSZ); err != nil || ws.Row != 40 || ws.Col != 120 {
		t.Errorf("window size after resize %+v, %v; want 40x120", ws, err)
	}
	m2, s2, err := openPTY(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	defer s2.Close()
	if ws, err := unix.IoctlGetWinsize(int(s2.Fd()), unix.TIOCGWINSZ); err != nil || ws.Row != 24 || ws.Col != 80 {
		t.Errorf("default window size %+v, %v; want 24x80", ws, err)
	}
}

func TestExitStatus(t *testing.T) {
	for script, want := range map[string]int{"exit 0": 0, "exit 3": 3, "kill -9 $$": 137, "kill -15 $$": 143} {
		cmd := exec.Command("/bin/sh", "-c", script)
		cmd.Run()
		if got := exitStatus(cmd.ProcessState); got != want {
			t.Errorf("exitStatus(sh -c %q) = %d, want %d", script, got, want)
		}
	}
}

// Only trusted users may enter, and the refusal names the rule; it comes
// before anything about the build, so it reveals nothing about it.
func TestEnterForbidden(t *testing.T) {
	d := &Daemon{cfg: &config.Config{TrustedUsers: []string{"root", "@wheel"}}}
	for _, p := range []*peer{{name: "nobody", uid: 65534, allowed: true}, nil} {
		req := httptest.NewRequest(http.MethodPost, "/v1/builds/0123456789ab/enter", strings.NewReader(`{"args":["/bin/true"]}`))
		if p != nil {
			req = req.WithContext(context.WithValue(req.Context(), ctxKey{}, p))
		}
		w := httptest.NewRecorder()
		d.Handler().ServeHTTP(w, req)
		var e api.Error
		json.NewDecoder(w.Body).Decode(&e)
		name := "unknown"
		if p != nil {
			name = p.name
		}
		want := "user " + name + " may not enter builds: only root and trusted-users may (trusted-users = root @wheel): forbidden"
		if w.Code != http.StatusForbidden || e.Code != api.CodeForbidden || e.Message != want {
			t.Errorf("enter as %s: %d %+v, want 403 %q", name, w.Code, e, want)
		}
	}
}

func TestEnterNeedsUpgrade(t *testing.T) {
	d := &Daemon{cfg: &config.Config{TrustedUsers: []string{"root"}}}
	req := httptest.NewRequest(http.MethodPost, "/v1/builds/0123456789ab/enter", strings.NewReader(`{}`))
	req = req.WithContext(context.WithValue(req.Context(), ctxKey{}, &peer{name: "root", trusted: true}))
	w := httptest.NewRecorder()
	d.Handler().ServeHTTP(w, req)
	var e api.Error
	json.NewDecoder(w.Body).Decode(&e)
	if w.Code != http.StatusBadRequest || !strings.Contains(e.Message, "Upgrade: "+api.EnterProtocol) {
		t.Errorf("enter without Upgrade: %d %+v, want 400 naming the header", w.Code, e)
	}
}
