package config

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sdbuild/sdbuild/internal/listflag"
)

// envPrefix starts every environment variable sdbuild reads.
const envPrefix = "SDBUILD_"

// envConfig names the configuration file; it is not a key.
const envConfig = envPrefix + "CONFIG"

// setByBuilds are the SDBUILD_ variables sdbuild itself puts in a build's
// environment (and an entered session's). They are never configuration:
// an sdbuild run inside a build inherits them and must not fail on them.
var setByBuilds = []string{envPrefix + "BUILD_ID"}

// flagConfig names the configuration file on the command line.
const flagConfig = "config"

// key is one configuration setting: its name in the file, the flag and (via
// envName) the environment, and the Config field it fills.
type key struct {
	name  string
	usage string
	// field returns a pointer into c: *string, *uint32, *int or *[]string.
	// The pointer's type decides how raw values are converted.
	field func(c *Config) any
}

// keys lists every setting, in the order errors are reported.
var keys = []key{
	{"state-dir", "absolute path of the daemon's state directory",
		func(c *Config) any { return &c.StateDir }},
	{"socket", "absolute path of the client socket",
		func(c *Config) any { return &c.Socket }},
	{"start-id", "first uid/gid of the build id range",
		func(c *Config) any { return &c.StartID }},
	{"id-count", "number of uids/gids in the build id range",
		func(c *Config) any { return &c.IDCount }},
	{"ids-per-build", "uids/gids given to each build",
		func(c *Config) any { return &c.IDsPerBuild }},
	{"max-jobs", "builds run at once (at least 1)",
		func(c *Config) any { return &c.MaxJobs }},
	{"allowed-users", "users who may build: names, @group or *",
		func(c *Config) any { return &c.AllowedUsers }},
	{"trusted-users", "users who may see, cancel and enter every build: names, @group or *",
		func(c *Config) any { return &c.TrustedUsers }},
	{"sandbox-paths", "host paths visible in builds, as HOST[:SANDBOX]",
		func(c *Config) any { return &c.SandboxPaths }},
}

// envName returns the environment variable for a key: "start-id" is
// SDBUILD_START_ID.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// keyNames returns the names of all keys, for suggestions.
func keyNames() []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	return names
}

// AddFlags registers one flag per key, named like the key and showing its
// default, plus --config: AddClientFlags and AddDaemonFlags together. Like
// pflag, it panics if a flag is already defined.
func AddFlags(fs *pflag.FlagSet) {
	AddClientFlags(fs)
	AddDaemonFlags(fs)
}

// clientKey is the one key a client of the daemon needs.
const clientKey = "socket"

// AddClientFlags registers what a client of the daemon reads: --socket
// and --config.
func AddClientFlags(fs *pflag.FlagSet) {
	addKeyFlags(fs, func(name string) bool { return name == clientKey })
	fs.String(flagConfig, DefaultFile, "TOML configuration file (env "+envConfig+")")
}

// AddDaemonFlags registers the daemon's settings (every key but socket),
// for sdbuildd and for the commands that build or check without it (run
// --local, doctor).
func AddDaemonFlags(fs *pflag.FlagSet) {
	addKeyFlags(fs, func(name string) bool { return name != clientKey })
}

// DaemonFlagNames are the flags AddDaemonFlags registers.
func DaemonFlagNames() []string {
	var names []string
	for _, k := range keys {
		if k.name != clientKey {
			names = append(names, k.name)
		}
	}
	return names
}

func addKeyFlags(fs *pflag.FlagSet, want func(name string) bool) {
	d := Defaults()
	for _, k := range keys {
		if !want(k.name) {
			continue
		}
		usage := fmt.Sprintf("%s (env %s)", k.usage, envName(k.name))
		switch p := k.field(&d).(type) {
		case *string:
			fs.String(k.name, *p, usage)
		case *uint32:
			fs.Uint32(k.name, *p, usage)
		case *int:
			fs.Int(k.name, *p, usage)
		case *[]string:
			listflag.Var(fs, listflag.NewSlice(p), k.name, "", usage+", comma-separated")
		default:
			panic(fmt.Sprintf("config key %s: unsupported field type %T", k.name, p))
		}
	}
}
