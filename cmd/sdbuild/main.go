// Command sdbuild runs builds in sandboxes on their own UID slots, either
// in the calling process (--local) or through the sdbuild daemon.
package main

import (
	"fmt"
	"os"

	"github.com/sdbuild/sdbuild/sandbox"
)

func main() {
	// Before anything else: this binary is also the sandbox's init.
	sandbox.MaybeInit()
	cmd := newRootCommand()
	err := cmd.Execute()
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild: %v\n", err)
	}
	os.Exit(exitCode(err))
}
