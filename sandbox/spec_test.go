package sandbox

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestParseMount(t *testing.T) {
	tests := []struct {
		in      string
		want    Mount
		wantErr string
	}{
		{in: "/usr", want: Mount{Host: "/usr", Sandbox: "/usr"}},
		{in: "/nix/store:/store", want: Mount{Host: "/nix/store", Sandbox: "/store"}},
		{in: "usr", wantErr: `host path "usr" must be absolute`},
		{in: "/usr:rel", wantErr: `sandbox path "rel" must be absolute`},
		{in: "/usr/", wantErr: `must be clean`},
		{in: "/a/../b", wantErr: `must be clean`},
		{in: "/x:/", wantErr: `cannot be mounted on /`},
		{in: "/x:/proc", wantErr: `/proc is reserved`},
		{in: "/x:/dev/null", wantErr: `/dev is reserved`},
		{in: "/x:/build", wantErr: `/build is reserved`},
		{in: "/x:/out/sub", wantErr: `/out is reserved`},
		{in: "/x:/tmp", wantErr: `/tmp is reserved`},
		{in: "/x:/outside", want: Mount{Host: "/x", Sandbox: "/outside"}},
	}
	for _, tt := range tests {
		got, err := ParseMount(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseMount(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseMount(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseFeatures(t *testing.T) {
	f, err := ParseFeatures([]string{"uid-range", "network"})
	if err != nil || f != (Features{UIDRange: true, Network: true}) {
		t.Errorf("ParseFeatures = %+v, %v", f, err)
	}
	_, err = ParseFeatures([]string{"uid-range", "kvmm"})
	if !errors.Is(err, ErrUnknownFeature) || !strings.Contains(err.Error(), `"kvmm"`) || !strings.Contains(err.Error(), "uid-range, systemd-cgroup, network") {
		t.Errorf("unknown feature error = %v", err)
	}
}

func validSpec() Spec {
	return Spec{BuildID: "abc", Args: []string{"/bin/true"}, Dir: "/var/lib/sdbuild/builds/abc", HostID: 872415232, IDCount: 65536}
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Spec)
		wantErr string
	}{
		{"valid", func(*Spec) {}, ""},
		{"no args", func(s *Spec) { s.Args = nil }, "no command to run"},
		{"empty argv0", func(s *Spec) { s.Args = []string{""} }, "no command to run"},
		{"bad id", func(s *Spec) { s.BuildID = "../x" }, `build id "../x"`},
		{"env without =", func(s *Spec) { s.Env = []string{"FOO"} }, "want KEY=VALUE"},
		{"env bad name", func(s *Spec) { s.Env = []string{"1X=y"} }, "not a valid variable name"},
		{"env fixed", func(s *Spec) { s.Env = []string{"out=/x"} }, "out is set by sdbuild"},
		{"env nul", func(s *Spec) { s.Env = []string{"A=b\x00c"} }, "NUL"},
		{"duplicate target", func(s *Spec) { s.Inputs = []Mount{{Host: "/a", Sandbox: "/x"}, {Host: "/b", Sandbox: "/x"}} }, "both mount on /x"},
		{"relative dir", func(s *Spec) { s.Dir = "b" }, "must be absolute"},
		{"root id", func(s *Spec) { s.HostID = 0 }, "non-root host id"},
		{"range overflow", func(s *Spec) { s.HostID = 1<<32 - 10; s.IDCount = 65536 }, "passes 2^32-1"},
		{"cgroup without uid-range", func(s *Spec) { s.Features.SystemdCgroup = true }, "needs feature uid-range"},
	}
	for _, tt := range tests {
		s := validSpec()
		tt.mutate(&s)
		err := s.Validate()
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidSpec containing %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestEnviron(t *testing.T) {
	s := validSpec()
	s.Env = []string{"B=2", "PATH=/usr/bin", "A=1", "B=3"}
	want := []string{"PATH=/usr/bin", "HOME=/homeless-shelter", "B=3", "A=1", "out=/out", "TMPDIR=/build", "SDBUILD_BUILD_ID=abc"}
	if got := s.Environ(); !reflect.DeepEqual(got, want) {
		t.Errorf("Environ() = %q, want %q", got, want)
	}
}

func TestOrderedInputs(t *testing.T) {
	s := validSpec()
	s.Inputs = []Mount{{Host: "/a", Sandbox: "/usr/share/x"}, {Host: "/b", Sandbox: "/usr"}, {Host: "/c", Sandbox: "/etc"}, {Host: "/d", Sandbox: "/usr/lib"}}
	var got []string
	for _, m := range s.orderedInputs() {
		got = append(got, m.Sandbox)
	}
	want := []string{"/etc", "/usr", "/usr/lib", "/usr/share/x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("orderedInputs() = %q, want %q", got, want)
	}
}

func TestIDMaps(t *testing.T) {
	s := validSpec()
	u, g := s.idMaps()
	if u != (idMap{1000, 872415232, 1}) || g != (idMap{100, 872415232, 1}) {
		t.Errorf("idMaps() default = %v %v", u, g)
	}
	s.Features.UIDRange = true
	u, g = s.idMaps()
	if u != (idMap{0, 872415232, 65536}) || g != u {
		t.Errorf("idMaps() uid-range = %v %v", u, g)
	}
}

// The hand-written checks accept exactly what the regexps they replace
// did.
var (
	buildIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	envKeyRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

var nameCases = []string{
	"", "a", "0", "-", "_", "A", "Z", "z", "9", "a-", "-a", "a_b", "a-b", "abc123", "ABC", "aBc", "_x", "x_", "1x", "x1",
	"a b", "a\n", "\na", "a.b", "a/b", "a=b", "é", "aé", "\xff", "a\x00", "@", "[", "`", "{", "/", ":",
	strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 65), "a" + strings.Repeat("-", 63), "a" + strings.Repeat("-", 64),
	strings.Repeat("é", 32), "0123456789abcdef", "SDBUILD_BUILD_ID", "PATH",
}

// checkName fails t unless both checks judge s as their regexps do.
func checkName(t *testing.T, s string) {
	t.Helper()
	if got, want := validBuildID(s), buildIDRe.MatchString(s); got != want {
		t.Errorf("validBuildID(%q) = %v, want %v", s, got, want)
	}
	if got, want := validEnvKey(s), envKeyRe.MatchString(s); got != want {
		t.Errorf("validEnvKey(%q) = %v, want %v", s, got, want)
	}
}

func TestValidNames(t *testing.T) {
	for _, s := range nameCases {
		checkName(t, s)
	}
}

// Every string of up to three bytes from an alphabet around the classes'
// edges.
func TestValidNamesExhaustive(t *testing.T) {
	alphabet := []byte{0, '\n', ' ', '-', '.', '/', '0', '9', ':', '@', 'A', 'Z', '[', '_', '`', 'a', 'z', '{', 0x7f, 0x80, 0xc3, 0xff}
	var walk func(prefix []byte)
	walk = func(prefix []byte) {
		checkName(t, string(prefix))
		if len(prefix) == 3 {
			return
		}
		for _, c := range alphabet {
			walk(append(prefix, c))
		}
	}
	walk(nil)
}
