// Command sdbuild runs builds in sandboxes on their own UID slots, either
// in the calling process (--local) or through the sdbuild daemon.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/sdbuild/sdbuild/sandbox"
)

func main() {
	// Before anything else: this binary is also the sandbox's init where
	// sdbuild-init is not installed.
	sandbox.MaybeInit()
	os.Exit(runMain(os.Args[1:]))
}

// useInstalledInit makes the sandboxes this process starts (run --local,
// doctor's probes) run sdbuild-init, installed beside us in a checkout's
// bin/ or beside sdbuildd. Only those commands look for it: the others,
// sdbuild run through the daemon first, start no sandbox.
func useInstalledInit() {
	if _, err := sandbox.UseInstalledInit(sandbox.InitName, sandbox.LibexecInit); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild: %v; builds started here re-execute sdbuild instead\n", err)
	}
}

// runMain runs the command line args and returns the exit status.
func runMain(args []string) int {
	cmd := rootFor(args)
	cmd.SetArgs(args)
	err := cmd.Execute()
	var se *statusError
	if err != nil && !(errors.As(err, &se) && se.quiet) {
		fmt.Fprintf(os.Stderr, "sdbuild: %v\n", err)
	}
	return exitCode(err)
}
