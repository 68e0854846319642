package cgroup2

import (
	"errors"
	"strings"
	"testing"
)

func TestParseOwn(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		bad  bool
	}{
		{"9:name=systemd:/\n4:memory:/x\n0::/system.slice/sdbuild.service\n", "/system.slice/sdbuild.service", false},
		{"0::/\n", "/", false},
		{"9:name=systemd:/x\n1:cpu:/\n0::/sdbuild.slice/b.scope/build\n", "/sdbuild.slice/b.scope/build", false},
		{"4:memory:/x\n", "", true},
		{"", "", true},
	} {
		got, err := ParseOwn(strings.NewReader(tt.in))
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseOwn(%q) = %q, %v; want %q, bad=%v", tt.in, got, err, tt.want, tt.bad)
		}
		if tt.bad && !errors.Is(err, ErrNoCgroup2) {
			t.Errorf("ParseOwn(%q): %v, want ErrNoCgroup2", tt.in, err)
		}
	}
}

func TestWithin(t *testing.T) {
	scope := "/sdbuild.slice/sdbuild-0123456789ab.scope"
	for _, tt := range []struct {
		p, cg string
		want  bool
	}{
		{"/system.slice/sdbuild.service", "/system.slice", true},
		{scope, scope, true},
		{scope + "/build", scope, true},
		{scope + "x", scope, false}, // another build's scope with a longer name
		{"/system.slice", "/system.slice/sdbuild.service", false},
		{"/", scope, false},
		{"/other" + scope, scope, false},
	} {
		if got := Within(tt.p, tt.cg); got != tt.want {
			t.Errorf("Within(%q, %q) = %v, want %v", tt.p, tt.cg, got, tt.want)
		}
	}
}
