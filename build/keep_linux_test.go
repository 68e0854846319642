package build

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sdbuild/sdbuild/api"
)

// keptRoot is a kept-build-dirs directory the test owner can reach, as
// /var/lib/sdbuild-kept is (t.TempDir's are 0700).
func keptRoot(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "kept")
}

// A failed build's /build is handed to its owner as a copy: fresh inodes
// of the owner's, symlinks copied as links and never followed, setuid
// dropped; a build that succeeds keeps nothing with Keep=failed.
func TestKeepFailed(t *testing.T) {
	r, _ := newRunner(t)
	r.opt.KeptRoot = keptRoot(t)
	req := shRequest(`cd /build && echo half > obj.o && ln -s /etc/shadow evil && printf x > tool && chmod 4755 tool && exit 2`)
	req.Keep = KeepFailed
	var log bytes.Buffer
	res, err := r.Run(context.Background(), "keepfailed01", req, &log)
	if err != nil || res.Status != api.StatusFailed {
		t.Fatalf("Run = %+v, %v\n%s", res, err, log.String())
	}
	want := filepath.Join(r.opt.KeptRoot, "4242", "keepfailed01")
	if res.KeptDir != want || !strings.Contains(log.String(), "build directory kept at "+want) {
		t.Fatalf("KeptDir = %q, log %q; want %s named in the log", res.KeptDir, log.String(), want)
	}
	if b, _ := os.ReadFile(filepath.Join(want, "obj.o")); string(b) != "half\n" {
		t.Errorf("kept obj.o = %q", b)
	}
	if l, err := os.Readlink(filepath.Join(want, "evil")); err != nil || l != "/etc/shadow" {
		t.Errorf("kept evil = %q, %v; want the link itself", l, err)
	}
	for _, p := range []string{filepath.Dir(want), want, filepath.Join(want, "tool")} {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 4242 {
			t.Errorf("%s owned by uid %d, want the owner 4242", p, st.Uid)
		}
		if fi.Mode()&os.ModeSetuid != 0 {
			t.Errorf("%s kept setuid", p)
		}
	}
	if fi, _ := os.Lstat(filepath.Dir(want)); fi.Mode().Perm() != 0o700 {
		t.Errorf("the owner's kept directory has mode %v, want 0700", fi.Mode())
	}

	ok := shRequest(`echo fine > /build/x`)
	ok.Keep = KeepFailed
	res, err = r.Run(context.Background(), "keepfailed02", ok, &log)
	if err != nil || res.Status != api.StatusSucceeded || res.KeptDir != "" {
		t.Errorf("a succeeded build with Keep=failed: %+v, %v", res, err)
	}
}

// A <uid> directory someone replaced with a symlink is refused, and the
// build's outcome stands.
func TestKeepRefusesPlantedParent(t *testing.T) {
	r, _ := newRunner(t)
	r.opt.KeptRoot = keptRoot(t)
	os.MkdirAll(r.opt.KeptRoot, 0o755)
	if err := os.Symlink("/etc", filepath.Join(r.opt.KeptRoot, "4242")); err != nil {
		t.Fatal(err)
	}
	req := shRequest(`exit 1`)
	req.Keep = KeepAlways
	var log bytes.Buffer
	res, err := r.Run(context.Background(), "keepplanted1", req, &log)
	if err != nil || res.Status != api.StatusFailed || res.KeptDir != "" {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if !strings.Contains(log.String(), "could not keep the build directory") || !strings.Contains(log.String(), "not a directory owned by uid 4242") {
		t.Errorf("log = %q, want the refusal", log.String())
	}
	if _, err := os.Stat("/etc/keepplanted1"); err == nil {
		t.Fatal("a kept directory appeared in /etc")
	}
}

func TestCheckKeep(t *testing.T) {
	r, _ := newRunner(t)
	q := shRequest("true")
	q.Keep = "sometimes"
	if _, err := r.Check(q); err == nil || !strings.Contains(err.Error(), `keep "sometimes"`) {
		t.Errorf("Check(keep=sometimes) = %v", err)
	}
	q.Keep = KeepFailed
	if _, err := r.Check(q); err == nil || !strings.Contains(err.Error(), "run without --local") {
		t.Errorf("Check(keep, no kept root) = %v", err)
	}
}
