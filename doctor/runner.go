package doctor

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/sdbuild/sdbuild/sandbox"
	"github.com/sdbuild/sdbuild/scope"
)

// Names of the runner service's checks.
const (
	checkRunnerService = "runner service"
	checkRunnerDir     = "runner build directory"
	checkRunnerSocket  = "runner socket"
)

// RunnerFacts are what stat said of the runner service's build directory
// (runner-build-directory) and socket (runner-socket).
type RunnerFacts struct {
	DirMode   fs.FileMode
	DirErr    error
	SocketErr error // nil when a socket is there
}

// checkRunner judges the runner service's configuration: off unless a
// build directory is set; then the directory must exist outside every
// path a sandbox has of its own, features and properties must parse, and
// the socket should be listening. None of it is required by the basic
// sandbox.
func checkRunner(h *Host) []Item {
	if h.Config == nil || !h.Config.Runner.Enabled() {
		return []Item{ok(checkRunnerService, "off: set runner-build-directory to a remote-execution worker's build directory to serve it")}
	}
	r := h.Config.Runner
	var items []Item
	var bad []string
	if _, err := sandbox.ParseFeatures(r.Features); err != nil {
		bad = append(bad, fmt.Sprintf("runner-features: %v", err))
	}
	for _, p := range r.Properties {
		if _, err := scope.ParseProperty(p); err != nil {
			bad = append(bad, fmt.Sprintf("runner-properties: %v", err))
		}
	}
	if len(bad) > 0 {
		items = append(items, missing(checkRunnerService, strings.Join(bad, "; ")))
	} else {
		items = append(items, ok(checkRunnerService, fmt.Sprintf("actions get features %q, properties %q", r.Features, r.Properties)))
	}
	f := h.Runner
	baseErr := sandbox.CheckActionBase(r.BuildDir)
	switch {
	case baseErr != nil:
		items = append(items, missing(checkRunnerDir, baseErr.Error()))
	case f.DirErr != nil:
		items = append(items, missing(checkRunnerDir, fmt.Sprintf("%s: %v; create it, or set runner-build-directory to the worker's buildDirectoryPath", r.BuildDir, f.DirErr)))
	case !f.DirMode.IsDir():
		items = append(items, missing(checkRunnerDir, fmt.Sprintf("%s is not a directory (%v)", r.BuildDir, f.DirMode)))
	default:
		items = append(items, ok(checkRunnerDir, r.BuildDir))
	}
	if f.SocketErr != nil {
		items = append(items, warning(checkRunnerSocket, fmt.Sprintf("%s: %v; systemctl enable --now sdbuild-runner.socket", r.Socket, f.SocketErr)))
	} else {
		items = append(items, ok(checkRunnerSocket, r.Socket))
	}
	return items
}
