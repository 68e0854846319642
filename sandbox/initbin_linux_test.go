package sandbox

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// withInitBinary makes stages run the program at path until the test ends.
func withInitBinary(t *testing.T, path string) {
	t.Helper()
	if err := SetInitBinary(path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(resetInitBinary)
}

func resetInitBinary() {
	if initBinary != nil {
		initBinary.Close()
		initBinary = nil
	}
}

// leanInit copies the test binary, which impersonates every stage (see
// TestMain), to a path of its own: a stand-in for sdbuild-init that is not
// /proc/self/exe.
func leanInit(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	path := filepath.Join(dir, InitName)
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSetInitBinaryRefuses(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want error
	}{
		{filepath.Join(dir, "missing"), fs.ErrNotExist},
		{dir, ErrNotExecutable},
		{plain, ErrNotExecutable},
	} {
		err := SetInitBinary(tc.path)
		if !errors.Is(err, tc.want) {
			t.Errorf("SetInitBinary(%s) = %v, want %v", tc.path, err, tc.want)
		}
		if InitBinary() != "" {
			resetInitBinary()
			t.Errorf("SetInitBinary(%s) failed but stages run %s", tc.path, InitBinary())
		}
	}
}

// The lean init is looked for at each relative path in turn, beside the
// executable; none there means re-executing ourselves, one that is there
// but unusable is an error.
func TestUseInit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string]os.FileMode // relative to bin/, 0 for a directory
		want    string
		wantErr error
	}{
		{"none", nil, "", nil},
		{"beside", map[string]os.FileMode{InitName: 0o755, "../libexec/sdbuild/" + InitName: 0o755}, "bin/" + InitName, nil},
		{"libexec", map[string]os.FileMode{"../libexec/sdbuild/" + InitName: 0o755}, "libexec/sdbuild/" + InitName, nil},
		{"not executable", map[string]os.FileMode{InitName: 0o644, "../libexec/sdbuild/" + InitName: 0o755}, "", ErrNotExecutable},
		{"a directory", map[string]os.FileMode{InitName: 0}, "", ErrNotExecutable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer resetInitBinary()
			top := t.TempDir()
			bin := filepath.Join(top, "bin")
			os.Mkdir(bin, 0o755)
			for rel, mode := range tc.files {
				p := filepath.Join(bin, rel)
				os.MkdirAll(filepath.Dir(p), 0o755)
				var err error
				if mode == 0 {
					err = os.Mkdir(p, 0o755)
				} else {
					err = os.WriteFile(p, []byte("#!/bin/true\n"), mode)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			got, err := useInit(bin, InitName, LibexecInit)
			want := tc.want
			if want != "" {
				want = filepath.Join(top, want)
			}
			if got != want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("useInit = %q, %v; want %q, %v", got, err, want, tc.wantErr)
			}
			if InitBinary() != want {
				t.Errorf("InitBinary() = %q, want %q", InitBinary(), want)
			}
		})
	}
}

// With a lean init set, init is that file, opened when it was set: a file
// put in its place afterwards is not what runs. The builder sees none of
// the fds init was started with; an action (one more fd passed to init),
// the namespace probe and Reclaim's helper run it too.
func TestLeanInit(t *testing.T) {
	testutil.RequireRoot(t, "creates namespaces, maps host ids and mounts")
	path := leanInit(t)
	withInitBinary(t, path)
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	s := newSpec(t, "")
	withHelper(t, s)
	s.Args = []string{helperPath, "fds"}
	if err := PrepareDir(s.Dir); err != nil {
		t.Fatal(err)
	}
	p, err := Start(s)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	exe, err := os.Readlink("/proc/" + strconv.Itoa(p.PID()) + "/exe")
	if want := path + ".old"; err != nil || exe != want {
		t.Errorf("init runs %q (%v), want %q", exe, err, want)
	}
	copied := make(chan string)
	go func() { b, _ := io.ReadAll(p.Log); copied <- string(b) }()
	if err := p.Go(); err != nil {
		t.Fatal(err)
	}
	res, err := p.Wait()
	if log := <-copied; err != nil || res.ExitCode != 0 || strings.TrimSpace(log) != "0 1 2" {
		t.Errorf("build: %+v, %v; log %q, want the builder to have fds 0 1 2", res, err, log)
	}

	a, _ := actionSpec(t, "echo out; echo err >&2")
	res, stdout, stderr := runAction(t, a)
	if res.ExitCode != 0 || stdout != "out\n" || stderr != "err\n" {
		t.Errorf("action: %+v, stdout %q, stderr %q", res, stdout, stderr)
	}

	if err := ProbeNamespace(context.Background(), Namespaces[1], 0); err != nil {
		t.Errorf("probe: %v", err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "build"), 0o000); err != nil {
		t.Fatal(err)
	}
	if err := Reclaim(&Spec{Dir: dir, HostID: 1, IDCount: 1, UserNS: &UserNS{UID: 0, GID: 0}}); err != nil {
		t.Errorf("Reclaim: %v", err)
	}
}

// The held file is found in the child by the number ExtraFiles gives it,
// never by its number here, which the child may have given another file:
// here it is moved to the number the child gives the 18th of ExtraFiles.
func TestStagePathFD(t *testing.T) {
	withInitBinary(t, leanInit(t))
	const fd = 20
	if _, err := unix.FcntlInt(fd, unix.F_GETFD, 0); !errors.Is(err, unix.EBADF) {
		t.Fatalf("fd %d is in use (%v): pick another", fd, err)
	}
	if err := unix.Dup3(int(initBinary.Fd()), fd, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	name := initBinary.Name()
	initBinary.Close()
	initBinary = os.NewFile(fd, name)

	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{probeArg0}
	for range fd - 3 + 1 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	}
	setStagePath(cmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("start the probe as %s with %d extra files: %v\n%s", cmd.Path, len(cmd.ExtraFiles), err, out)
	}
}
