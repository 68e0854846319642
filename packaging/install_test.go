//go:build !integration

package packaging

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// The files make install puts under PREFIX=/usr, besides one man page
// per command (cmd/sdbuild's tests check those against the commands).
var installed = []string{
	"usr/bin/sdbuild",
	"usr/libexec/sdbuild/sdbuildd",
	"usr/libexec/sdbuild/sdbuild-init",
	"usr/lib/systemd/user/sdbuild.service",
	"usr/lib/systemd/user/sdbuild.slice",
	"usr/lib/systemd/user/sdbuild.socket",
	"usr/share/bash-completion/completions/sdbuild",
	"usr/share/fish/vendor_completions.d/sdbuild.fish",
	"usr/share/man/man1/sdbuild.1",
	"usr/share/man/man1/sdbuild-run.1",
	"usr/share/man/man5/sdbuild.toml.5",
	"usr/share/man/man8/sdbuildd.8",
}

func TestMakeInstall(t *testing.T) {
	dest := t.TempDir()
	sysdir := "/usr/lib/systemd/system"
	makeIn(t, "install", "DESTDIR="+dest, "PREFIX=/usr", "SYSTEMDSYSTEMUNITDIR="+sysdir)
	files := walk(t, dest)
	want := append(slices.Clone(installed), "usr/share/zsh/site-functions/_sdbuild",
		"usr/lib/systemd/system/sdbuild.service", "usr/lib/systemd/system/sdbuild.slice", "usr/lib/systemd/system/sdbuild.socket")
	for _, f := range want {
		if !slices.Contains(files, f) {
			t.Errorf("make install did not install %s; it installed:\n%s", f, strings.Join(files, "\n"))
		}
	}
	for _, f := range files {
		if !strings.HasPrefix(f, "usr/") {
			t.Errorf("make install PREFIX=/usr wrote %s, outside /usr", f)
		}
	}
	for _, set := range []string{"system", "user"} {
		svc := readFile(t, filepath.Join(dest, "usr/lib/systemd", set, "sdbuild.service"))
		for _, w := range []string{"ExecStart=/usr/libexec/sdbuild/sdbuildd\n", "Documentation=man:sdbuildd(8) man:sdbuild.toml(5)\n"} {
			if !strings.Contains(svc, w) {
				t.Errorf("%s sdbuild.service lacks %q:\n%s", set, w, svc)
			}
		}
	}
	// The completions are scripts their shells accept.
	checkSyntax(t, "bash", filepath.Join(dest, "usr/share/bash-completion/completions/sdbuild"))
	for _, sh := range []string{"zsh", "fish"} {
		if _, err := exec.LookPath(sh); err == nil {
			p := filepath.Join(dest, "usr/share/zsh/site-functions/_sdbuild")
			if sh == "fish" {
				p = filepath.Join(dest, "usr/share/fish/vendor_completions.d/sdbuild.fish")
			}
			checkSyntax(t, sh, p)
		}
	}
}

func checkSyntax(t *testing.T, shell, path string) {
	t.Helper()
	if out, err := exec.Command(shell, "-n", path).CombinedOutput(); err != nil {
		t.Errorf("%s -n %s: %v\n%s", shell, path, err, out)
	}
}

// make deb: the package's files, its fields, and lintian.
func TestMakeDeb(t *testing.T) {
	testutil.RequireBinary(t, "dpkg-deb", "dpkg")
	testutil.RequireBinary(t, "dpkg-shlibdeps", "dpkg-dev")
	deb := buildDeb(t)
	out := run(t, "dpkg-deb", "-c", deb)
	var files []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		p := strings.TrimPrefix(f[len(f)-1], "./")
		if !strings.HasSuffix(p, "/") {
			files = append(files, p)
		}
		if f[1] != "root/root" {
			t.Errorf("%s is owned by %s, want root/root", p, f[1])
		}
	}
	unitDir := strings.TrimPrefix(strings.TrimSpace(makeOut(t, "-s", "print-SYSTEMDSYSTEMUNITDIR")), "/")
	want := []string{unitDir + "/sdbuild.service", unitDir + "/sdbuild.socket", unitDir + "/sdbuild.slice",
		"usr/share/zsh/vendor-completions/_sdbuild", "usr/share/doc/sdbuild/copyright", "usr/share/doc/sdbuild/changelog.gz",
		"usr/share/doc/sdbuild/examples/sdbuild.toml", "usr/share/lintian/overrides/sdbuild"}
	for _, f := range installed {
		if strings.Contains(f, "/man/") {
			f += ".gz"
		}
		want = append(want, f)
	}
	for _, f := range want {
		if !slices.Contains(files, f) {
			t.Errorf("the package lacks %s; dpkg-deb -c:\n%s", f, out)
		}
	}
	info := run(t, "dpkg-deb", "-f", deb, "Package", "Version", "Depends", "Recommends")
	version := strings.TrimSpace(run(t, "./version"))
	for _, w := range []string{"Package: sdbuild\n", "Version: " + version + "\n", "libc6 (>= ", "systemd, dbus, uidmap, slirp4netns\n", "Recommends: systemd-container\n"} {
		if !strings.Contains(info, w) {
			t.Errorf("dpkg-deb -f lacks %q:\n%s", w, info)
		}
	}
	if !strings.HasSuffix(deb, "/sdbuild_"+version+"_"+strings.TrimSpace(run(t, "dpkg", "--print-architecture"))+".deb") {
		t.Errorf("package %s: want sdbuild_<version>_<arch>.deb", deb)
	}

	lintian := testutil.RequireBinary(t, "lintian", "lintian")
	// spelling-error-in-binary is left out: lintian reads every printable
	// run of the Go binaries' machine code as words, and which runs it
	// flags ("addD") changes with every build of the code, so no override
	// could stay true.
	cmd := exec.Command(lintian, "-I", "-E", "--pedantic", "--fail-on", "error,warning,info,pedantic,experimental",
		"--suppress-tags", "spelling-error-in-binary", deb)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("lintian %s: %v\n%s", deb, err, out)
	}
}

// buildDeb runs make deb into a temporary directory and returns the package.
func buildDeb(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	makeIn(t, "deb", "DEBDIR="+dir)
	debs, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
	if len(debs) != 1 {
		t.Fatalf("make deb DEBDIR=%s made %q, want one package", dir, debs)
	}
	return debs[0]
}

func makeIn(t *testing.T, args ...string) { t.Helper(); makeOut(t, args...) }

// makeOut runs make in the top directory with its build products in a
// temporary directory (BUILDDIR): a test leaves bin/ as make build left
// it, rather than with make deb's PIE binaries in it, and fails if make
// wrote there all the same.
func makeOut(t *testing.T, args ...string) string {
	t.Helper()
	testutil.RequireBinary(t, "make", "make")
	before := snapshot(t, "../bin")
	out := run(t, "make", append([]string{"-C", "..", "BUILDDIR=" + t.TempDir()}, args...)...)
	if diff := changed(before, snapshot(t, "../bin")); len(diff) > 0 {
		if len(diff) > 5 {
			diff = append(diff[:5], fmt.Sprintf("… and %d more", len(diff)-5))
		}
		t.Errorf("make %s changed bin/: %s", strings.Join(args, " "), strings.Join(diff, ", "))
	}
	return out
}

// snapshot maps each path under dir, relative to it, to its type, mode,
// size and modification time; a missing dir has none.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(dir, p)
		m[r] = fmt.Sprintf("%v %d %v", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// changed names what was added, removed or changed between two snapshots.
func changed(before, after map[string]string) []string {
	var diff []string
	for p, a := range after {
		if b, ok := before[p]; !ok {
			diff = append(diff, p+" added")
		} else if a != b {
			diff = append(diff, p+" changed")
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			diff = append(diff, p+" removed")
		}
	}
	sort.Strings(diff)
	return diff
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr)
	}
	return string(out)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// walk lists the regular files under dir, relative to it, sorted.
func walk(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			r, _ := filepath.Rel(dir, p)
			files = append(files, r)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}
