package sandbox

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// mappedMain is the mapped stage (see stages), the first of a process
// started in a user namespace whose maps newuidmap writes: exec computes
// a process's capabilities from its ids, and before the maps exist it has
// none, so the process waits for "mapped" on fd 3 and then execs the real
// stage (os.Args[1:]), which starts as root of the namespace with every
// capability in it. It reads that one message only, so whatever follows on
// fd 3 is the next stage's. Without "mapped" (the parent gave up) nothing
// runs.
func mappedMain() int {
	ctl := newConn(os.NewFile(3, "sdbuild-control"))
	if _, fd, err := ctl.recv(stepMapped, noDeadline); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild: %v\n", err)
		return 1
	} else {
		closeFile(fd)
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "sdbuild: usage: sdbuild-sandbox-mapped STAGE [ARG...]")
		return 2
	}
	err := unix.Exec("/proc/self/exe", os.Args[1:], os.Environ())
	runtime.KeepAlive(ctl) // fd 3 stays open for the next stage
	fmt.Fprintf(os.Stderr, "sdbuild: exec %s: %v\n", os.Args[1], err)
	return 1
}

// stageArgs returns the argv that starts stage with args in u's user
// namespace: through the mapped stage when newuidmap writes the maps.
func (u *UserNS) stageArgs(stage string, args ...string) []string {
	if u != nil && u.Sub {
		return append([]string{mappedArg0, stage}, args...)
	}
	return append([]string{stage}, args...)
}

// sendMapped tells the mapped stage on ctl that its maps are written.
func sendMapped(ctl *conn) error { return ctl.send(message{Step: stepMapped}, nil) }
