package config

import (
	"path/filepath"
)

// Runner configures the runner service: the gRPC socket a remote-execution
// worker hands its actions to, each run as a build.
type Runner struct {
	// Socket is where sdbuildd listens when not socket-activated (the
	// unit sdbuild-runner.socket names it otherwise), and what doctor
	// checks.
	Socket string // runner-socket
	// BuildDir is the worker's build directory, shared with sdbuildd;
	// "" turns the service off.
	BuildDir string // runner-build-directory
	// Every action gets these sandbox features, systemd scope
	// properties (NAME=VALUE) and read-only HOST[:SANDBOX] paths, on top
	// of sandbox-paths.
	Features     []string // runner-features
	Properties   []string // runner-properties
	SandboxPaths []string // runner-sandbox-paths
}

// Enabled reports whether the runner service runs.
func (r *Runner) Enabled() bool { return r.BuildDir != "" }

func defaultRunner() Runner {
	return Runner{
		Socket: "/run/sdbuild/runner.sock",
		// What compilers and shells need; /etc stays sdbuild's own.
		SandboxPaths: []string{"/usr", "/bin", "/lib", "/lib64", "/sbin"},
		Features:     []string{}, Properties: []string{},
	}
}

func init() {
	keys = append(keys,
		key{"runner-socket", "absolute path of the runner socket when not socket-activated",
			func(c *Config) any { return &c.Runner.Socket }},
		key{"runner-build-directory", "the remote-execution worker's build directory (empty: no runner service)",
			func(c *Config) any { return &c.Runner.BuildDir }},
		key{"runner-features", "sandbox features every remote action gets",
			func(c *Config) any { return &c.Runner.Features }},
		key{"runner-properties", "systemd scope properties (NAME=VALUE) every remote action gets",
			func(c *Config) any { return &c.Runner.Properties }},
		key{"runner-sandbox-paths", "host paths visible in remote actions, as HOST[:SANDBOX]",
			func(c *Config) any { return &c.Runner.SandboxPaths }},
	)
}

// runnerErrors checks the runner keys.
func (c *Config) runnerErrors() []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, errorf(ErrInvalidValue, "config: "+format, a...))
	}
	r := &c.Runner
	if rule := pathRule(r.Socket); rule != "" {
		bad("runner-socket = %q: %s", r.Socket, rule)
	}
	if r.BuildDir != "" {
		if rule := pathRule(r.BuildDir); rule != "" {
			bad("runner-build-directory = %q: %s", r.BuildDir, rule)
		} else if filepath.Clean(r.BuildDir) != r.BuildDir || r.BuildDir == "/" {
			bad("runner-build-directory = %q: must be clean and not /", r.BuildDir)
		}
		if c.Rootless != nil {
			bad("runner-build-directory = %q: the runner service lends an action's directories to the build's ids, which takes root: set it for the system daemon only", r.BuildDir)
		}
	}
	for _, sp := range r.SandboxPaths {
		if rule := sandboxPathRule(sp); rule != "" {
			bad("runner-sandbox-paths entry %q: %s", sp, rule)
		}
	}
	for _, p := range r.Properties {
		if rule := propertyRule(p); rule != "" {
			bad("runner-properties entry %q: %s", p, rule)
		}
	}
	return errs
}
