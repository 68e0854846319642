package doctor

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// TestNamespaceLimitNamed sets one namespace limit to 0 in a user
// namespace of the test's own and runs the real Gather there: the check of
// that namespace must be missing, name the sysctl, and fail the report;
// and the probe must find the failure without the sysctl's help.
func TestNamespaceLimitNamed(t *testing.T) {
	testutil.RequireRoot(t, "probes what the root daemon sees")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		knob, check, feature string
	}{
		{"user.max_net_namespaces", "network namespace", "network"},
		{"user.max_user_namespaces", "user namespace", "uid-range"},
		{"user.max_cgroup_namespaces", "cgroup namespace", "systemd-cgroup"},
	} {
		t.Run(tc.knob, func(t *testing.T) {
			cmd := exec.Command(exe, tc.knob)
			cmd.Args[0] = limitArg0
			cmd.Stderr = os.Stderr
			cmd.SysProcAttr = &syscall.SysProcAttr{
				Cloneflags:  syscall.CLONE_NEWUSER,
				UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
				GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
			}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			var res limitResult
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("helper output: %v\n%s", err, out)
			}
			r := res.Report
			if p := wantItem(r.Checks, tc.check, Missing, tc.knob+" = 0"); p != "" {
				t.Error(p)
			}
			if p := wantItem(r.Checks, "mount namespace", OK); p != "" {
				t.Error(p)
			}
			if p := wantItem(r.Features, tc.feature, Missing); p != "" {
				t.Error(p)
			}
			if r.OK || !strings.Contains(Summary(r), tc.check) {
				t.Errorf("summary %q: want the report failed by %s", Summary(r), tc.check)
			}
			// The probe alone found it: clone failed with ENOSPC.
			if p := wantItem(res.ProbeOnly.Checks, tc.check, Missing, "the limit "+tc.knob+" is reached", "no space left on device"); p != "" {
				t.Errorf("without the sysctl: %s", p)
			}
		})
	}
}

// TestCLIExitStatus builds sdbuild and runs sdbuild doctor as a user
// would: the real binary's probes, its table, its JSON and its exit
// status, 0 on this host.
func TestCLIExitStatus(t *testing.T) {
	testutil.RequireRoot(t, "probes what the root daemon sees")
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("needs the go command to build sdbuild: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "sdbuild")
	if out, err := exec.Command(gobin, "build", "-o", bin, "../cmd/sdbuild").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The defaults, not whatever SDBUILD_* or /etc/sdbuild the caller has.
	conf := filepath.Join(t.TempDir(), "sdbuild.toml")
	if err := os.WriteFile(conf, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"SDBUILD_CONFIG=" + conf}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SDBUILD_") {
			env = append(env, kv)
		}
	}

	text := exec.Command(bin, "doctor")
	text.Env = env
	out, err := text.Output()
	if err != nil {
		t.Errorf("sdbuild doctor: %v, want exit status 0\n%s", err, out)
	}
	for _, want := range []string{"CHECK", "FEATURE", "network namespace  ok", "sdbuild's sandbox can run here."} {
		if !strings.Contains(string(out), want) {
			t.Errorf("sdbuild doctor output lacks %q:\n%s", want, out)
		}
	}

	js := exec.Command(bin, "doctor", "--json")
	js.Env = env
	out, err = js.Output()
	if err != nil {
		t.Errorf("sdbuild doctor --json: %v, want exit status 0", err)
	}
	var r Report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("sdbuild doctor --json: %v\n%s", err, out)
	}
	if !r.OK || len(r.Features) == 0 {
		t.Errorf("sdbuild doctor --json = %s; want ok and features", out)
	}

	// An id range holding nobody (65534) fails the basic sandbox: exit
	// status 1, and the clash named.
	bad := exec.Command(bin, "doctor", "--start-id", "65534", "--id-count", "2", "--ids-per-build", "2")
	bad.Env = env
	out, err = bad.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("sdbuild doctor with start-id 65534: %v, want exit status 1\n%s", err, out)
	}
	if !strings.Contains(string(out), `overlaps user "nobody"`) {
		t.Errorf("sdbuild doctor with start-id 65534 does not name the clash:\n%s", out)
	}
}
