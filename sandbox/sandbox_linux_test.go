package sandbox

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

func TestMain(m *testing.M) {
	// The test binary impersonates sandbox init when re-executed as it,
	// so every root test goes through the real re-exec path.
	MaybeInit()
	if stage, how, ok := strings.Cut(filepath.Base(os.Args[0]), ":"); ok && stage == brokenInitArg0 {
		os.Exit(brokenInitMain(how))
	}
	switch filepath.Base(os.Args[0]) {
	case filepath.Base(helperPath):
		os.Exit(helperMain(os.Args[1:]))
	case nsLimitArg0:
		os.Exit(nsLimitMain())
	case groupsArg0:
		os.Exit(groupsMain())
	}
	os.Exit(m.Run())
}

// testHostID is far above the ids real builds use (2013265920+), so a test
// can never touch a real build's processes or files, and apart from the
// ranges other packages' tests use (slots 0xE0000000, build 0xE2000000),
// since go test runs packages in parallel and these tests scan their range.
const testHostID = 3774873600 // 0xE1000000

// baseInputs make /bin/sh and coreutils work on a merged-/usr system.
var baseInputs = []Mount{{Host: "/usr", Sandbox: "/usr"}, {Host: "/bin", Sandbox: "/bin"}, {Host: "/lib", Sandbox: "/lib"}, {Host: "/lib64", Sandbox: "/lib64"}, {Host: "/sbin", Sandbox: "/sbin"}}

type run struct {
	res Result
	err error
	log string
	dir string
}

// newSpec returns a spec running script with sh -c, on a fresh build dir.
func newSpec(t *testing.T, script string) *Spec {
	t.Helper()
	testutil.RequireRoot(t, "creates namespaces, maps host ids and mounts")
	parent := t.TempDir()
	if err := os.Chmod(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "b")
	return &Spec{
		BuildID: "test",
		Args:    []string{"/bin/sh", "-c", "PATH=/usr/bin:/bin; " + script},
		Inputs:  append([]Mount(nil), baseInputs...),
		Dir:     dir,
		HostID:  testHostID,
		IDCount: 65536,
	}
}

// runSpec prepares the directory, runs the spec to the end and returns
// what happened.
func runSpec(t *testing.T, s *Spec) run {
	t.Helper()
	if err := PrepareDir(s.Dir); err != nil {
		t.Fatal(err)
	}
	p, err := Start(s)
	if err != nil {
		return run{err: err, dir: s.Dir}
	}
	var log bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&log, p.Log); close(copied) }()
	if err := p.Go(); err != nil {
		t.Fatalf("Go: %v", err)
	}
	res, err := p.Wait()
	<-copied
	return run{res: res, err: err, log: log.String(), dir: s.Dir}
}

// startSpec prepares the directory and starts s, its log discarded, for
// a test that drives the build's steps itself.
func startSpec(t *testing.T, s *Spec) *Process {
	t.Helper()
	if err := PrepareDir(s.Dir); err != nil {
		t.Fatal(err)
	}
	p, err := Start(s)
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, p.Log)
	return p
}

// mustRun runs script and fails the test unless it exits 0.
func mustRun(t *testing.T, s *Spec) string {
	t.Helper()
	r := runSpec(t, s)
	if r.err != nil || r.res.ExitCode != 0 {
		t.Fatalf("build: err=%v result=%+v\nlog:\n%s", r.err, r.res, r.log)
	}
	return r.log
}

func TestHelloOutput(t *testing.T) {
	s := newSpec(t, `echo hello > $out/greeting; echo done`)
	log := mustRun(t, s)
	if strings.TrimSpace(log) != "done" {
		t.Errorf("log = %q, want %q", log, "done\n")
	}
	b, err := os.ReadFile(filepath.Join(s.Dir, "out", "greeting"))
	if err != nil || string(b) != "hello\n" {
		t.Errorf("out/greeting = %q, %v; want %q", b, err, "hello\n")
	}
}

// withHelper makes the test binary available as helperPath in s.
func withHelper(t *testing.T, s *Spec) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s.Inputs = append(s.Inputs, Mount{Host: exe, Sandbox: helperPath})
}

func readlinkNS(name string) (string, error) { return os.Readlink("/proc/self/ns/" + name) }

// The builder's mount namespace outlives the builder for as long as init
// does (holdMountNS), so that its teardown does not delay the result. (The
// builder lives on a moment after writing its namespace down: init takes
// its hold right after the builder's exec, and a builder gone by then is
// not held, by design.)
func TestBuilderMountNSHeldPastResult(t *testing.T) {
	s := newSpec(t, `readlink /proc/self/ns/mnt > $out/mntns; sleep 0.1`)
	p := startSpec(t, s)
	defer p.Wait()
	if err := p.Go(); err != nil {
		t.Fatalf("Go: %v", err)
	}
	if res, err := p.Result(); err != nil || res.ExitCode != 0 {
		t.Fatalf("Result: %+v, %v", res, err)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir, "out", "mntns"))
	if err != nil {
		t.Fatal(err)
	}
	builderNS := strings.TrimSpace(string(b))
	if initNS, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", p.PID())); builderNS == initNS || !strings.HasPrefix(builderNS, "mnt:[") {
		t.Fatalf("builder's mount namespace %q: want a namespace of its own (init's is %q)", builderNS, initNS)
	}
	fds := fmt.Sprintf("/proc/%d/fd", p.PID())
	ents, err := os.ReadDir(fds)
	if err != nil {
		t.Fatal(err)
	}
	var open []string
	for _, e := range ents {
		l, _ := os.Readlink(filepath.Join(fds, e.Name()))
		if l == builderNS {
			return
		}
		open = append(open, l)
	}
	t.Errorf("after the result, init holds no fd on the builder's mount namespace %s; it holds %q", builderNS, open)
}
