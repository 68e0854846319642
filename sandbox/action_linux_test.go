package sandbox

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// actionSpec is a spec whose builder is an action in base/a/root, with
// base/a/tmp beside it; base is outside /tmp, which every sandbox has of
// its own.
func actionSpec(t *testing.T, script string) (*Spec, string) {
	t.Helper()
	s := newSpec(t, "")
	base, err := os.MkdirTemp("/var/tmp", "sdbuild-action-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	for _, d := range []string{"a/root/sub", "a/tmp", "a/other"} {
		os.MkdirAll(filepath.Join(base, d), 0o755)
	}
	os.WriteFile(filepath.Join(base, "a/stdout"), []byte("the worker's"), 0o644)
	// The builder (uid 1000 inside) is the slot's first id outside.
	os.Chown(filepath.Join(base, "a/root/sub"), int(testHostID), int(testHostID))
	s.Args = []string{"sh", "-c", script}
	s.Env = []string{"PATH=/usr/bin:/bin", "TMPDIR=" + filepath.Join(base, "a/tmp"), "A=b c"}
	s.Action = &Action{Base: base, Binds: []string{"a/root", "a/tmp"}, WorkDir: filepath.Join(base, "a/root/sub")}
	return s, base
}

// runAction runs s to its end and returns its stdout and stderr apart.
func runAction(t *testing.T, s *Spec) (Result, string, string) {
	t.Helper()
	if err := PrepareDir(s.Dir); err != nil {
		t.Fatal(err)
	}
	p, err := Start(s)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	var out, errb bytes.Buffer
	done := make(chan struct{}, 2)
	go func() { io.Copy(&out, p.Log); done <- struct{}{} }()
	go func() { io.Copy(&errb, p.Stderr); done <- struct{}{} }()
	if err := p.Go(); err != nil {
		t.Fatalf("Go: %v", err)
	}
	res, err := p.Wait()
	<-done
	<-done
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return res, out.String(), errb.String()
}

// An action starts in its working directory with exactly its
// environment, sees its directories at their host paths and nothing else
// of the build directory, and has its stderr apart.
func TestAction(t *testing.T) {
	s, base := actionSpec(t, `env | sort; pwd; echo made > here; echo oops >&2
ls ../.. ; test -e ../../other && echo OTHER; test -e ../../stdout && echo STDOUT`)
	res, out, errOut := runAction(t, s)
	if res.ExitCode != 1 || res.Rusage == nil { // the last test fails: nothing else is there
		t.Errorf("result = %+v, want exit 1 with rusage", res)
	}
	want := "A=b c\nPATH=/usr/bin:/bin\nPWD=" + filepath.Join(base, "a/root/sub") + "\nTMPDIR=" + filepath.Join(base, "a/tmp") + "\n" +
		filepath.Join(base, "a/root/sub") + "\nroot\ntmp\n"
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if errOut != "oops\n" {
		t.Errorf("stderr = %q, want oops alone", errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(base, "a/root/sub/here")); string(b) != "made\n" {
		t.Errorf("the action's file on the host: %q", b)
	}
}

// A bind is resolved beneath the base without following a symlink: a
// worker's request cannot bind anything else.
func TestActionBindNoSymlink(t *testing.T) {
	s, base := actionSpec(t, "true")
	os.Symlink("/etc", filepath.Join(base, "a/evil"))
	s.Action.Binds = []string{"a/evil"}
	s.Action.WorkDir = filepath.Join(base, "a/evil")
	if err := PrepareDir(s.Dir); err != nil {
		t.Fatal(err)
	}
	_, err := Start(s)
	if err == nil || !strings.Contains(err.Error(), "a/evil") {
		t.Errorf("Start with a bind through a symlink = %v, want a refusal naming it", err)
	}
}

func TestActionValidate(t *testing.T) {
	for _, a := range []*Action{
		{Base: "/tmp/b", Binds: []string{"r"}, WorkDir: "/tmp/b/r"},
		{Base: "/var/b", Binds: []string{"../r"}, WorkDir: "/var/r"},
		{Base: "/var/b", Binds: []string{"r"}, WorkDir: "/var/b/other"},
		{Base: "/var/b", Binds: []string{"r"}, WorkDir: "/var/b/r/../x"},
	} {
		s := Spec{BuildID: "x", Args: []string{"true"}, Dir: "/d", HostID: 1, IDCount: 1, Action: a}
		if err := s.Validate(); err == nil {
			t.Errorf("Validate(%+v): no error", a)
		}
	}
	s := Spec{BuildID: "x", Args: []string{"true"}, Dir: "/d", HostID: 1, IDCount: 1, Env: []string{"TMPDIR=/x"},
		Action: &Action{Base: "/var/b", Binds: []string{"r"}, WorkDir: "/var/b/r"}}
	if err := s.Validate(); err != nil {
		t.Errorf("an action may set TMPDIR: %v", err)
	}
}
