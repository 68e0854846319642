//go:build !integration

package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// packaging/version on a repository at each stage of its life.
func TestVersion(t *testing.T) {
	testutil.RequireBinary(t, "git", "git")
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@t"}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z", "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
	}
	commit := func() {
		t.Helper()
		f := filepath.Join(repo, "f")
		b, _ := os.ReadFile(f)
		if err := os.WriteFile(f, append(b, 'x'), 0o644); err != nil {
			t.Fatal(err)
		}
		git("add", "f")
		git("commit", "-q", "-m", "c")
	}
	version := func() string {
		t.Helper()
		out, err := exec.Command("./version", repo).Output()
		if err != nil {
			t.Fatalf("version %s: %v", repo, err)
		}
		return string(out[:len(out)-1])
	}
	if v := version(); v != "0~unknown" {
		t.Errorf("outside git: version = %q, want 0~unknown", v)
	}
	git("init", "-q")
	commit()
	for _, step := range []struct {
		name string
		do   func()
		want string
	}{
		{"no tag", func() {}, `^0~git20260102030405\.[0-9a-f]{12}$`},
		{"changed", func() { os.WriteFile(filepath.Join(repo, "f"), []byte("y"), 0o644) }, `^0~git20260102030405\.[0-9a-f]{12}\+dirty$`},
		{"tagged", func() { git("checkout", "-q", "f"); git("tag", "v1.2.3") }, `^1\.2\.3$`},
		{"two commits on", func() { commit(); commit() }, `^1\.2\.3\+2\.g[0-9a-f]+$`},
		{"a tag that is no release", func() { git("tag", "nightly") }, `^1\.2\.3\+2\.g[0-9a-f]+$`},
	} {
		step.do()
		if v := version(); !regexp.MustCompile(step.want).MatchString(v) {
			t.Errorf("%s: version = %q, want %s", step.name, v, step.want)
		}
	}
	// Debian orders them as releases are ordered.
	if dpkg, err := exec.LookPath("dpkg"); err == nil {
		for _, p := range [][2]string{{"0~git20260102030405.abc", "1.2.3"}, {"1.2.3", "1.2.3+2.gabc"}, {"1.2.3+2.gabc", "1.2.4"}} {
			if err := exec.Command(dpkg, "--compare-versions", p[0], "lt", p[1]).Run(); err != nil {
				t.Errorf("dpkg --compare-versions %s lt %s: %v", p[0], p[1], err)
			}
		}
	}
}
