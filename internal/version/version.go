// Package version says which sdbuild a binary is, from the module and VCS
// information the Go toolchain embeds in every build.
package version

import (
	"runtime/debug"
	"sync"
)

// Unknown is the version of a binary built without module version or VCS
// information (go build -buildvcs=false from a work tree).
const Unknown = "devel"

// override lets a distribution's build name the version it packages
// (-ldflags "-X github.com/sdbuild/sdbuild/internal/version.override=1.2-3")
// when it builds from a tarball, which has neither.
var override string

var get = sync.OnceValue(func() string {
	if override != "" {
		return override
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Unknown
	}
	return fromBuildInfo(bi)
})

// String is this binary's version: the module version when it was built
// as a versioned module (go install …@v1.2.0), else "devel-" and the VCS
// revision (with "-dirty" for uncommitted changes), else "devel".
func String() string { return get() }

func fromBuildInfo(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return Unknown
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := Unknown + "-" + rev
	if dirty {
		v += "-dirty"
	}
	return v
}
