package doctor

import "github.com/sdbuild/sdbuild/sandbox"

// checkSandboxInit is the name of the check of what each build's init is.
const checkSandboxInit = "sandbox init"

// checkInit says which program the builds this process starts (run
// --local, doctor's own probes) run as init: sdbuild-init, or the calling
// binary re-executed, which works as well but costs each build more CPU.
// sdbuildd finds its own beside itself and logs which as it starts.
func checkInit(h *Host) Item {
	if h.InitBinary != "" {
		return ok(checkSandboxInit, "builds start "+h.InitBinary)
	}
	return warning(checkSandboxInit, "no "+sandbox.InitName+" beside sdbuild or at "+sandbox.LibexecInit+
		": builds re-execute sdbuild itself as their init, which costs each build a few ms more CPU; "+
		"install it with sdbuild (make install, or the Debian package)")
}
