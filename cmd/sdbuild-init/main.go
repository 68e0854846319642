// Command sdbuild-init is sdbuild's sandbox init: the binary sdbuildd and
// sdbuild start, in fresh namespaces, for every stage of a build (see
// sandbox.MaybeInit). It links nothing but the sandbox package, so that
// each build pays for the start of a small static binary rather than of
// the daemon's.
package main

import (
	"fmt"
	"os"

	"github.com/sdbuild/sdbuild/sandbox"
)

func main() {
	sandbox.MaybeInit()
	fmt.Fprintln(os.Stderr, "sdbuild-init: this is sdbuild's sandbox init; sdbuildd and sdbuild start it for each build, it is not run by hand")
	os.Exit(2)
}
