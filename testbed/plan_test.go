package testbed

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"sdbuild-testbed", true},
		{"tb0", true},
		{"a", true},
		{strings.Repeat("a", 48), true},
		{"", false},
		{strings.Repeat("a", 49), false},
		{"-tb", false},
		{"tb-", false},
		{"Tb", false},
		{"t.b", false},
		{"t/b", false},
		{"../x", false},
	}
	for _, tt := range tests {
		err := checkName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("checkName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("checkName(%q) = %v, want an ErrInvalidName", tt.name, err)
		}
	}
}

func TestOptionsDefaults(t *testing.T) {
	opt, err := Options{}.withDefaults()
	if err != nil {
		t.Fatalf("Options{}.withDefaults() = %v", err)
	}
	if opt.Name != DefaultName || opt.Log == nil || opt.BootTimeout != DefaultBootTimeout {
		t.Errorf("Options{}.withDefaults() = %+v, want name %q, a Log, timeout %v", opt, DefaultName, DefaultBootTimeout)
	}
}

func TestIsReady(t *testing.T) {
	tests := []struct {
		msg  string
		want bool
	}{
		{"READY=1", true},
		{"READY=1\nSTATUS=Startup finished in 160ms.", true},
		{"STATUS=x\nREADY=1\n", true},
		{"STATUS=Startup finished in 160ms.", false},
		{"READY=0", false},
		{"XREADY=1", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isReady([]byte(tt.msg)); got != tt.want {
			t.Errorf("isReady(%q) = %v, want %v", tt.msg, got, tt.want)
		}
	}
}

func TestSystemStateOK(t *testing.T) {
	tests := []struct {
		out  string
		want bool
	}{
		{"running\n", true},
		{"degraded\n", true},
		{"starting\n", false},
		{"maintenance\n", false},
		{"offline\n", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := systemStateOK(tt.out); got != tt.want {
			t.Errorf("systemStateOK(%q) = %v, want %v", tt.out, got, tt.want)
		}
	}
}

func TestOwnCgroup2Path(t *testing.T) {
	tests := []struct {
		file    string
		want    string
		wantErr error
	}{
		{"0::/\n", "/", nil},
		{"9:name=systemd:/\n4:memory:/x\n0::/user.slice/a.scope\n", "/user.slice/a.scope", nil},
		{"0::/..\n", "", ErrOutsideCgroupNamespace},
		{"0::/../../x\n", "", ErrOutsideCgroupNamespace},
		{"4:memory:/x\n", "", ErrNoCgroup2},
		{"", "", ErrNoCgroup2},
	}
	for _, tt := range tests {
		got, err := ownCgroup2Path(strings.NewReader(tt.file))
		if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("ownCgroup2Path(%q) = %q, %v; want %q, %v", tt.file, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestMaskedUnits pins the masks whose absence would change the host.
func TestMaskedUnits(t *testing.T) {
	for _, u := range []string{
		"systemd-tmpfiles-setup.service", // empties /tmp
		"systemd-tmpfiles-clean.timer",
		"timers.target",
		"systemd-sysctl.service",
		"systemd-binfmt.service",
		"systemd-modules-load.service",
		"systemd-udevd.service",
		"systemd-udev-trigger.service",
		"systemd-timesyncd.service",
		"systemd-random-seed.service",
		"systemd-update-utmp.service",
		"systemd-journal-flush.service",
		"systemd-machine-id-commit.service",
	} {
		if !slices.Contains(maskedUnits, u) {
			t.Errorf("maskedUnits lacks %s", u)
		}
	}
	seen := map[string]bool{}
	for _, u := range maskedUnits {
		if seen[u] {
			t.Errorf("maskedUnits lists %s twice", u)
		}
		seen[u] = true
	}
}

func TestSystemdArgv(t *testing.T) {
	argv := systemdArgv("/lib/systemd/systemd", innerConfig{Hostname: "tb"})
	if !slices.Contains(argv, "--unit=basic.target") || !slices.Contains(argv, "systemd.hostname=tb") {
		t.Errorf("systemdArgv = %q, want --unit=basic.target and systemd.hostname=tb", argv)
	}
	for _, a := range argv {
		if strings.Contains(a, "multi-user") || strings.Contains(a, "graphical") {
			t.Errorf("systemdArgv = %q boots %s, which starts gettys and host services", argv, a)
		}
	}
	env := systemdEnv(innerConfig{NotifySocket: "@x"})
	if !slices.Contains(env, "container=other") || !slices.Contains(env, "NOTIFY_SOCKET=@x") {
		t.Errorf("systemdEnv = %q, want container=other and NOTIFY_SOCKET=@x", env)
	}
}
