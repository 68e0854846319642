package sandbox

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// stage is one role the binary stages run as takes when it is started
// with arg0 as argv[0] (runc's init, Go's os/exec tests). That binary is
// our own re-executed, or sdbuild-init built from the same tree and
// installed with it (SetInitBinary), so parent and child speak the same
// protocol.
type stage struct {
	arg0 string
	main func() int
}

// stages are every process of ours in a sandbox: what each is and does.
// All but the probe read their work from fd 3 in the one framing of
// control_linux.go, never from argv or the environment (reclaim takes its
// directory in argv: it is the caller's own path).
var stages = []stage{
	// init: PID 1 of the build, in new mount, pid, ipc, uts and network
	// namespaces (and a user namespace of its own for a caller without
	// root). Reads the spec, builds the root, says ready, waits for go,
	// clones the builder (the second user namespace that locks init's
	// mounts), reports its result, kills what is left.
	{initArg0, initMain},
	// mapped: the first stage in a user namespace whose maps newuidmap
	// writes. Waits for "mapped", then execs the next stage (argv[1:]),
	// which so starts with every capability of that namespace.
	{mappedArg0, mappedMain},
	// payload: the builder's first process in a systemd-cgroup build,
	// created by init in the build's cgroup. Makes its own cgroup
	// namespace, mounts proc, sysfs, cgroup2 and /run from inside, reads
	// "exec" and execs the builder.
	{payloadArg0, payloadMain},
	// reclaim: root of a user namespace mapped like init's; gives a dead
	// build's files back to a caller without root (Reclaim).
	{reclaimArg0, reclaimMain},
	// probe: exits at once; that it started proves the namespaces it was
	// cloned with could be created (ProbeNamespace).
	{probeArg0, func() int { return 0 }},
}

// argv[0] values of the stages.
const (
	initArg0    = "sdbuild-sandbox-init"
	mappedArg0  = "sdbuild-sandbox-mapped"
	payloadArg0 = "sdbuild-sandbox-payload"
	reclaimArg0 = "sdbuild-sandbox-reclaim"
	probeArg0   = "sdbuild-sandbox-probe"
)

// MaybeInit runs the stage this binary was started as, and never returns
// in that case. Every binary that starts sandboxes (and every test binary
// that does) calls it first thing in main, before flags or configuration
// are parsed, like runc's init.
func MaybeInit() {
	name := filepath.Base(os.Args[0])
	for _, st := range stages {
		if st.arg0 == name {
			// Stages change per-thread state (namespaces, the session
			// keyring) and fork children whose parent-death signal fires
			// when the forking thread exits (Go issue 27505): stay on the
			// main thread for good.
			runtime.LockOSThread()
			nameThread("sdbuild-" + strings.TrimPrefix(name, "sdbuild-sandbox-"))
			os.Exit(st.main())
		}
	}
}

// nameThread sets the calling thread's name, which ps and systemctl status
// show for the process when it is the leader: a stage started through an
// open file (SetInitBinary) would otherwise be named after the file's
// number ("4"). The kernel keeps 15 bytes of it.
func nameThread(name string) {
	if b, err := unix.BytePtrFromString(name); err == nil {
		unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(b)), 0, 0, 0)
	}
}
