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
	// Before anything else: this binary is also the sandbox's init.
	sandbox.MaybeInit()
	os.Exit(runMain(os.Args[1:]))
}

// runMain runs the command line args and returns the exit status.
func runMain(args []string) int {
	cmd := newRootCommand()
	cmd.SetArgs(args)
	err := cmd.Execute()
	var se *statusError
	if err != nil && !(errors.As(err, &se) && se.quiet) {
		fmt.Fprintf(os.Stderr, "sdbuild: %v\n", err)
	}
	return exitCode(err)
}
