package enter

import (
	"os/exec"
	"testing"
)

func TestExitStatus(t *testing.T) {
	for script, want := range map[string]int{"exit 0": 0, "exit 3": 3, "kill -9 $$": 137, "kill -15 $$": 143} {
		cmd := exec.Command("/bin/sh", "-c", script)
		cmd.Run()
		if got := exitStatus(cmd.ProcessState); got != want {
			t.Errorf("exitStatus(sh -c %q) = %d, want %d", script, got, want)
		}
	}
}

// Start refuses what the caller should have checked before it reads
// anything of the build or creates a cgroup.
func TestStartRefuses(t *testing.T) {
	scope := "/sdbuild.slice/sdbuild-0123456789ab.scope"
	for _, tt := range []struct {
		t    Target
		opt  Options
		want string
	}{
		{Target{ID: "0123456789ab", Init: 1, Cgroup: ""}, Options{}, `enter build 0123456789ab: scope cgroup "": not a cgroup below the hierarchy's root`},
		{Target{ID: "0123456789ab", Init: 1, Cgroup: scope}, Options{Term: "a\x1b"}, `enter build 0123456789ab: env TERM="a\x1b": not a terminal type`},
	} {
		if s, err := Start(tt.t, tt.opt); s != nil || err == nil || err.Error() != tt.want {
			t.Errorf("Start(%+v, %+v) = %v, %v; want %q", tt.t, tt.opt, s, err, tt.want)
		}
	}
}
