package build

import (
	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/sandbox"
)

// RunnerOptions are the Options cfg implies, but for the pool and the
// placement: state, sandbox paths and, for a user's own daemon, the user
// namespace every build's init gets.
func RunnerOptions(cfg *config.Config) Options {
	opt := Options{StateDir: cfg.StateDir, SandboxPaths: cfg.SandboxPaths, KeptRoot: cfg.KeptRoot()}
	if r := cfg.Rootless; r != nil {
		opt.UserNS = &sandbox.UserNS{UID: r.UID, GID: r.GID, Sub: r.HasSubIDs()}
		if r.HasSubIDs() {
			// init's namespace maps every slot, so that it starts before
			// its build's slot is leased (prepared sandboxes).
			opt.UserNS.Pool = sandbox.IDPool{UID: cfg.StartID, GID: cfg.StartGID(), Count: cfg.IDCount}
		} else {
			opt.NoSubIDs = r.NoSubIDsError()
		}
	}
	return opt
}
