package config

import (
	"slices"
	"strings"
	"testing"
)

func TestLoadRunner(t *testing.T) {
	useDefaultFile(t, "/nonexistent/sdbuild.toml")
	path := writeFile(t, "sdbuild.toml", `
runner-build-directory = "/var/lib/worker/build"
runner-features = ["uid-range"]
runner-properties = ["MemoryMax=2G"]
`)
	c, err := Load(Source{File: path, Environ: []string{"SDBUILD_RUNNER_SOCKET=/run/x/runner.sock"}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	r := c.Runner
	if !r.Enabled() || r.BuildDir != "/var/lib/worker/build" || r.Socket != "/run/x/runner.sock" ||
		!slices.Equal(r.Features, []string{"uid-range"}) || !slices.Equal(r.Properties, []string{"MemoryMax=2G"}) ||
		!slices.Contains(r.SandboxPaths, "/usr") {
		t.Errorf("Runner = %+v", r)
	}
	if d := Defaults(); d.Runner.Enabled() {
		t.Errorf("the runner service is on by default: %+v", d.Runner)
	}
}

func TestLoadRunnerBad(t *testing.T) {
	useDefaultFile(t, "/nonexistent/sdbuild.toml")
	tests := []struct{ file, want string }{
		{`runner-build-directory = "build"`, `runner-build-directory = "build": must be an absolute path`},
		{`runner-build-directory = "/var/lib/b/"`, `must be clean and not /`},
		{`runner-properties = ["MemoryMax"]`, `runner-properties entry "MemoryMax": want NAME=VALUE`},
		{`runner-sandbox-paths = ["usr"]`, `runner-sandbox-paths entry "usr"`},
		{`runner-socket = "x.sock"`, `runner-socket = "x.sock": must be an absolute path`},
	}
	for _, tt := range tests {
		_, err := Load(Source{File: writeFile(t, "sdbuild.toml", tt.file)})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%s) = %v, want an error containing %q", tt.file, err, tt.want)
		}
	}
}
