package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/internal/version"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

var t0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func finishedBuild(id string) *api.Build {
	return &api.Build{ID: id, User: "alice", UID: 1000, Slot: 3, Unit: "sdbuild-" + id + ".scope", Args: []string{"sh"},
		Outcome: api.Outcome{Status: api.StatusSucceeded}, Created: t0, Started: t0, Finished: t0.Add(1234 * time.Millisecond),
		CPUUsec: 456000, MemoryPeak: 17196646}
}

// sdbuild run inside a build inherits SDBUILD_BUILD_ID; a client command
// reads only the socket, so a daemon setting it cannot read or that is
// wrong (a typo, start-id = 0) does not stop it.
func TestClientIgnoresDaemonConfiguration(t *testing.T) {
	noConfig(t)
	useConfig(t, "max-jbos = 3\nstart-id = 0\n")
	t.Setenv("SDBUILD_BUILD_ID", "0123456789ab")
	d := &fakeDaemon{version: version.String()}
	d.serve(t)
	out, errOut, code := cli(t, "status")
	if code != 0 || !strings.Contains(out, "0 running") || errOut != "" {
		t.Errorf("sdbuild status = %d, %q, %q; want it to answer without complaint", code, out, errOut)
	}
}

// Daemon settings are flags of run --local and doctor only.
func TestClientCommandsHaveNoDaemonFlags(t *testing.T) {
	root := newRootCommand()
	for _, c := range root.Commands() {
		for _, name := range config.DaemonFlagNames() {
			f := c.Flags().Lookup(name)
			switch c.Name() {
			case "doctor":
				if f == nil {
					t.Errorf("doctor has no --%s", name)
				}
			case "run":
				if f == nil || !f.Hidden {
					t.Errorf("run --%s: %v; want it for --local, hidden from run's help", name, f)
				}
			default:
				if f != nil || c.InheritedFlags().Lookup(name) != nil {
					t.Errorf("sdbuild %s has --%s, a daemon setting", c.Name(), name)
				}
			}
		}
	}
	noConfig(t)
	_, errOut, code := cli(t, "run", "--max-jobs", "3", "true")
	if code != exitSdbuild || !strings.Contains(errOut, "--max-jobs is a setting of the daemon") {
		t.Errorf("run --max-jobs without --local = %d, %q", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	noConfig(t)
	out, _, code := cli(t, "--version")
	if code != 0 || out != "sdbuild "+version.String()+"\n" {
		t.Errorf("sdbuild --version = %d, %q", code, out)
	}
	d := &fakeDaemon{version: "v9.9.9"}
	d.serve(t)
	out, errOut, code := cli(t, "status")
	if code != 0 || !strings.Contains(out, "sdbuildd v9.9.9") ||
		!strings.Contains(errOut, "warning: the daemon is version v9.9.9, this client "+version.String()) {
		t.Errorf("status against another version = %d, %q, %q; want the version and a warning", code, out, errOut)
	}
	d.version = version.String()
	if _, errOut, _ := cli(t, "status"); strings.Contains(errOut, "warning") {
		t.Errorf("status against the same version warns: %q", errOut)
	}
}

// submitted runs sdbuild run against a fake daemon and returns what it
// submitted.
func submitted(t *testing.T, args ...string) (*api.SubmitRequest, string, string, int) {
	t.Helper()
	noConfig(t)
	d := &fakeDaemon{final: finishedBuild("0123456789ab")}
	d.serve(t)
	out, errOut, code := cli(t, append([]string{"run"}, args...)...)
	return d.submit, out, errOut, code
}

func TestRunArgs(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"flags stop at CMD", []string{"-i", "/usr", "sh", "-c", "echo hi", "-i", "x"}, []string{"sh", "-c", "echo hi", "-i", "x"}},
		{"-- still works", []string{"-i", "/usr", "--", "sh", "-c", "x"}, []string{"sh", "-c", "x"}},
		{"a -- of CMD's own", []string{"grep", "--", "-v"}, []string{"grep", "--", "-v"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sr, _, errOut, code := submitted(t, tt.args...)
			if code != 0 || sr == nil || strings.Join(sr.Args, "|") != strings.Join(tt.want, "|") {
				t.Errorf("run %q submitted %+v (exit %d, %s); want args %q", tt.args, sr, code, errOut, tt.want)
			}
		})
	}
}

func TestRunTimeout(t *testing.T) {
	for _, tt := range []struct {
		flag string
		want time.Duration
	}{
		{"5min", 5 * time.Minute},
		{"1h 30s", time.Hour + 30*time.Second},
		{"90", 90 * time.Second}, // as Nix's --timeout 90
		{"300ms", 300 * time.Millisecond},
	} {
		sr, _, errOut, code := submitted(t, "--timeout", tt.flag, "--max-silent-time", tt.flag, "true")
		if code != 0 || time.Duration(sr.Timeout) != tt.want || time.Duration(sr.MaxSilentTime) != tt.want {
			t.Errorf("run --timeout %q submitted %v (exit %d, %s); want %v", tt.flag, sr, code, errOut, tt.want)
		}
	}
	_, _, errOut, code := submitted(t, "--timeout", "5 parsecs", "true")
	if code != exitSdbuild || !strings.Contains(errOut, `invalid argument "5 parsecs" for "--timeout"`) {
		t.Errorf("run --timeout '5 parsecs' = %d, %q", code, errOut)
	}
}

func TestRunEnvAndInputs(t *testing.T) {
	t.Setenv("FROM_CALLER", "it's mine")
	dir := t.TempDir()
	envFile := dir + "/build.env"
	writeTestFile(t, envFile, "# a comment\n\nA=1\nFROM_CALLER\n")
	t.Chdir(dir)
	sr, _, errOut, code := submitted(t, "-e", "FROM_CALLER", "-e", "UNSET_HERE", "-e", "B=2", "--env-file", envFile,
		"-i", "src", "-i", "./lib:/lib", "-i", "/usr", "-o", "out", "true")
	if code != 0 {
		t.Fatalf("run = %d, %s", code, errOut)
	}
	if got, want := strings.Join(sr.Env, "|"), "A=1|FROM_CALLER=it's mine|FROM_CALLER=it's mine|B=2"; got != want {
		t.Errorf("env = %q, want %q", got, want)
	}
	if got, want := strings.Join(sr.Inputs, "|"), dir+"/src|"+dir+"/lib:/lib|/usr"; got != want {
		t.Errorf("inputs = %q, want %q", got, want)
	}
	if sr.Output != dir+"/out" {
		t.Errorf("output = %q, want %q", sr.Output, dir+"/out")
	}
}

// One line at the end of a build, as systemd-run --wait gives; -q gives
// nothing but the build's output.
func TestRunSummary(t *testing.T) {
	_, out, errOut, code := submitted(t, "true")
	if code != 0 || out != "build output\n" ||
		!strings.HasSuffix(errOut, "sdbuild: build 0123456789ab succeeded; ran 1.234s, CPU 456ms, memory peak 16.3M\n") {
		t.Errorf("run = %d, %q, %q", code, out, errOut)
	}
	_, out, errOut, code = submitted(t, "-q", "true")
	if code != 0 || out != "build output\n" || errOut != "" {
		t.Errorf("run -q = %d, %q, %q; want the output alone", code, out, errOut)
	}
}

func TestRunSignal(t *testing.T) {
	noConfig(t)
	b := finishedBuild("0123456789ab")
	b.Outcome = api.Outcome{Status: api.StatusFailed, ExitCode: 139, Signal: 11, Error: "builder " + api.ExitText(139, 11, false)}
	d := &fakeDaemon{final: b}
	d.serve(t)
	_, errOut, code := cli(t, "run", "true")
	if code != 139 || !strings.Contains(errOut, "build 0123456789ab failed: builder killed by signal SEGV (core not dumped); ran 1.234s") {
		t.Errorf("run killed by SIGSEGV = %d, %q", code, errOut)
	}
	_, errOut, code = cli(t, "run", "-q", "true")
	if code != 139 || errOut != "" {
		t.Errorf("run -q killed by SIGSEGV = %d, %q; want the status alone", code, errOut)
	}
}

// A refused build gives an error object on stdout with --json, with the
// exit status it has without.
func TestRunJSONRefusal(t *testing.T) {
	noConfig(t)
	d := &fakeDaemon{final: finishedBuild("0123456789ab"), refuse: &api.Error{Code: api.CodeBadRequest, Message: `bad build request: feature "bogus": unknown feature`}}
	d.serve(t)
	out, _, code := cli(t, "run", "--json", "--feature", "bogus", "true")
	var e api.Error
	if err := json.Unmarshal([]byte(out), &e); err != nil || e.Code != api.CodeBadRequest || !strings.Contains(e.Message, "unknown feature") || code != exitSdbuild {
		t.Errorf("run --json refused = %d, %q (%v)", code, out, err)
	}
	_, _, plain := cli(t, "run", "--feature", "bogus", "true")
	if plain != code {
		t.Errorf("exit without --json %d, with %d", plain, code)
	}
	t.Setenv("SDBUILD_SOCKET", "/nonexistent/sdbuild.sock")
	out, _, code = cli(t, "run", "--json", "true")
	if err := json.Unmarshal([]byte(out), &e); err != nil || e.Code != codeUnreachable || code != exitSdbuild {
		t.Errorf("run --json without a daemon = %d, %q", code, out)
	}
}

func TestEnterArgs(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"-T", "0123", "ps", "-ef"}, []string{"ps", "-ef"}},
		{[]string{"-T", "0123", "--", "ps", "-ef"}, []string{"ps", "-ef"}},
		{[]string{"-T", "0123"}, nil},
	} {
		noConfig(t)
		d := &fakeDaemon{}
		d.serve(t)
		_, errOut, code := cli(t, append([]string{"enter"}, tt.args...)...)
		if code != exitSdbuild || !strings.Contains(errOut, "refused by the fake daemon") || d.enter == nil ||
			strings.Join(d.enter.Args, "|") != strings.Join(tt.want, "|") {
			t.Errorf("enter %q sent %+v (exit %d, %s); want args %q", tt.args, d.enter, code, errOut, tt.want)
		}
	}
}

// Root has no user daemon: --user says so instead of failing on uid 0's
// "configuration"; install-units --user still installs users' units.
func TestUserAsRoot(t *testing.T) {
	testutil.RequireRoot(t, "the message is root's")
	noConfig(t)
	for _, args := range [][]string{{"--user", "status"}, {"--user", "list"}, {"--user", "run", "--local", "true"}} {
		_, errOut, code := cli(t, args...)
		if code != exitSdbuild || errOut != "sdbuild: "+errRootUserDaemon.Error()+"\n" {
			t.Errorf("sdbuild %q as root = %d, %q", args, code, errOut)
		}
	}
	out, errOut, code := cli(t, "install-units", "--user", "--no-reload", "--bindir", "/usr/libexec/sdbuild", "--dir", t.TempDir())
	if code != 0 || !strings.Contains(out, "installed ") {
		t.Errorf("install-units --user as root = %d, %q, %q", code, out, errOut)
	}
}
