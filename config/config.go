// Package config loads and validates sdbuild's configuration.
//
// Values come from, in falling precedence, command-line flags, SDBUILD_*
// environment variables, a TOML file (decoded with go-toml, keys matched
// folded to lower case) and built-in defaults; every other package
// receives a typed Config.
package config

import "runtime"

// DefaultFile is read when no file is named by Source.File, --config or
// $SDBUILD_CONFIG. Unlike a named file, it may be missing.
const DefaultFile = "/etc/sdbuild/sdbuild.toml"

// Config is sdbuild's validated configuration.
type Config struct {
	StateDir string // state-dir: absolute path of the daemon's state
	Socket   string // socket: absolute path of the client socket

	// Builds run as ids from [StartID, StartID+IDCount), IDsPerBuild
	// consecutive ids per concurrent build.
	StartID     uint32 // start-id
	IDCount     uint32 // id-count
	IDsPerBuild uint32 // ids-per-build

	MaxJobs int // max-jobs: builds run at once, at least 1

	// Entries are user names, "@group" or "*" (everyone).
	AllowedUsers []string // allowed-users: may connect and build
	TrustedUsers []string // trusted-users: may also see, cancel and enter every build

	// Entries are "HOST[:SANDBOX]", both absolute and clean; SANDBOX
	// defaults to HOST.
	SandboxPaths []string // sandbox-paths

	Runner Runner // runner-*: the runner service (runner.go)
	// Ops: retention and the limits every build gets (operate.go).
	Ops Operations

	// Rootless is set for a user's own daemon (Source.User): the user and
	// the subordinate ids it was granted. nil for the system daemon.
	Rootless *Rootless
}

// Defaults returns the configuration used when nothing is set.
func Defaults() Config {
	return Config{
		StateDir:     "/var/lib/sdbuild",
		Socket:       "/run/sdbuild/sdbuild.sock",
		StartID:      2013265920, // 0x78000000: no one else's, see allocators.go
		IDCount:      8388608,    // 128 slots of 65536
		IDsPerBuild:  65536,      // a full 16-bit range, so a build can nest containers
		MaxJobs:      runtime.NumCPU(),
		AllowedUsers: []string{"*"},
		TrustedUsers: []string{"root"},
		SandboxPaths: []string{},
		Runner:       defaultRunner(),
		Ops:          defaultOperations(),
	}
}

// Slots returns how many builds the id range holds at once: IDCount /
// IDsPerBuild, or 0 when IDsPerBuild is 0 (an invalid configuration).
func (c *Config) Slots() int {
	if c.IDsPerBuild == 0 {
		return 0
	}
	return int(c.IDCount / c.IDsPerBuild)
}
