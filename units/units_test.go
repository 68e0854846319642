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
	// The runner socket is the system daemon's alone: the runner service
	// needs root.
	want := []string{"sdbuild-runner.socket", "sdbuild.service", "sdbuild.slice", "sdbuild.socket"}
	if got := Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	want = want[1:]
	if got := User.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("User.Names() = %q, want %q", got, want)
	}
}

// A user's socket is in $XDG_RUNTIME_DIR (%t), where the CLI looks, and
// only its user may connect.
func TestUserSocket(t *testing.T) {
	b, err := User.Render("sdbuild.socket", "/bin")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ListenStream=%t/sdbuild/sdbuild.sock\n", "SocketMode=0600\n", "DirectoryMode=0700\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("user socket unit lacks %q:\n%s", want, b)
		}
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
	exe, _ := os.Executable()
	// The service's ExecStart must exist for verify: point it at a real file.
	os.Symlink(exe, filepath.Join(filepath.Dir(exe), "sdbuildd"))
	for _, set := range []struct {
		s    Set
		flag string
	}{{System, "--system"}, {User, "--user"}} {
		paths, err := set.s.Install(t.TempDir(), filepath.Dir(exe))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(analyze, append([]string{"verify", set.flag, "--man=no"}, paths...)...)
		// --user resolves %t: a user manager's $XDG_RUNTIME_DIR.
		cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("systemd-analyze verify %s: %v\n%s", set.flag, err, out)
		}
	}
}

// Both slices ship the memory-pressure policy systemd-oomd acts on.
func TestSliceOOMPolicy(t *testing.T) {
	for _, s := range []Set{System, User} {
		b, err := s.Render("sdbuild.slice", "/usr/bin")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"[Slice]\n", "ManagedOOMMemoryPressure=kill\n", "ManagedOOMMemoryPressureLimit=80%\n"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s sdbuild.slice lacks %q:\n%s", s, want, b)
			}
		}
	}
}
