package units

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	want := []string{"sdbuild.service", "sdbuild.slice", "sdbuild.socket"}
	if got := Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}

func TestRender(t *testing.T) {
	b, err := Render("sdbuild.service", "/opt/sdbuild/bin/")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "ExecStart=/opt/sdbuild/bin/sdbuildd\n") || strings.Contains(string(b), "@") {
		t.Errorf("rendered service:\n%s", b)
	}
	if _, err := Render("sdbuild.service", "bin"); err == nil {
		t.Error("Render with a relative bindir: want an error")
	}
}

// The units must be what systemd accepts; systemd-analyze verify checks
// them without a running manager.
func TestUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skipf("needs systemd-analyze (Debian package systemd): %v", err)
	}
	dir := t.TempDir()
	exe, _ := os.Executable()
	paths, err := Install(dir, filepath.Dir(exe))
	if err != nil {
		t.Fatal(err)
	}
	// The service's ExecStart must exist for verify: point it at a real file.
	os.Symlink(exe, filepath.Join(filepath.Dir(exe), "sdbuildd"))
	out, err := exec.Command(analyze, append([]string{"verify", "--man=no"}, paths...)...).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
