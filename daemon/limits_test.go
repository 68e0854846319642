package daemon

import (
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/scope"
)

func TestUnenforced(t *testing.T) {
	parse := func(ss ...string) []scope.Property {
		props, err := parseProperties(ss)
		if err != nil {
			t.Fatal(err)
		}
		return props
	}
	tests := []struct {
		raw       []string
		available []string
		want      string // "" for no error
	}{
		{[]string{"MemoryMax=1G"}, []string{"cpu", "memory", "pids"}, ""},
		{[]string{"MemoryMax=1G"}, []string{"hugetlb"}, "-p MemoryMax=1G: this host's cgroup2 (/sys/fs/cgroup/unified) has no memory controller (it has: hugetlb;"},
		{[]string{"TasksMax=100"}, nil, "has no pids controller (it has: none;"},
		{[]string{"CPUQuota=50%"}, []string{"memory"}, "-p CPUQuota=50%: this host's cgroup2 (/sys/fs/cgroup/unified) has no cpu controller"},
		{[]string{"IOWeight=10"}, []string{"cpu"}, "has no io controller"},
		{[]string{"RuntimeMaxSec=60"}, nil, ""}, // enforced by systemd itself
		{[]string{"CPUWeight=50", "TasksMax=10"}, []string{"cpu"}, "-p TasksMax=10"},
	}
	for _, tt := range tests {
		err := unenforced(tt.raw, parse(tt.raw...), tt.available, "/sys/fs/cgroup/unified")
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("unenforced(%q, %q) = %v, want nil", tt.raw, tt.available, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("unenforced(%q, %q) = %v, want it to contain %q", tt.raw, tt.available, err, tt.want)
		}
	}
}

func TestUserManagerCgroup(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/user.slice/user-1000.slice/user@1000.service/app.slice/sdbuild.service", "/user.slice/user-1000.slice/user@1000.service"},
		{"/user.slice/user-1000.slice/user@1000.service", "/user.slice/user-1000.slice/user@1000.service"},
		{"/system.slice/sdbuild.service", "/system.slice/sdbuild.service"},
	} {
		if got := userManagerCgroup(tc.in); got != tc.want {
			t.Errorf("userManagerCgroup(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
