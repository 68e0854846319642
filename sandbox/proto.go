package sandbox

// Steps of the control protocol, every message any stage sends or reads
// (framing: control_linux.go; stages: stages_linux.go). In the order of a
// build:
const (
	// parent → mapped stage: the user namespace's maps are written; exec
	// the next stage. (Only with subordinate ids: see mappedMain.)
	stepMapped = "mapped"
	// parent → init: the Spec.
	stepSpec = "spec"
	// init → parent: the root is built; init waits to be placed. A
	// prepared sandbox says it twice: once the common part is built (then
	// it waits for "request"), and once the build's own part is.
	stepReady = "ready"
	// parent → prepared init: the whole Spec, the build's own part filled
	// in (see SpawnPrepared).
	stepRequest = "request"
	// parent → init: start the builder; with the systemd-cgroup feature
	// the fd of the cgroup directory it is created in.
	stepGo = "go"
	// init → parent, with the network feature and systemd-cgroup: the
	// builder's own network namespace as an fd, for the route out.
	stepNetNS = "netns"
	// parent → init: the route out is attached, or Error says why not.
	stepNetReady = "net-ready"
	// init → payload stage: the builder to exec (Exec).
	stepExec = "exec"
	// init → parent: the builder's Result. init then stays, alone in the
	// build's cgroup, until the parent closes the socket.
	stepResult = "result"
	// init → parent, at any step: setup failed (Error); init exits.
	stepError = "error"
)

// message is one message on a control socket.
type message struct {
	Step string `json:"step"`
	Spec *Spec  `json:"spec,omitempty"`
	// Prepared, with the spec: build only the common part of the root,
	// say ready, and wait for "request".
	Prepared bool      `json:"prepared,omitempty"`
	Result   *Result   `json:"result,omitempty"`
	Exec     *execSpec `json:"exec,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// execSpec is the builder the payload stage execs.
type execSpec struct {
	Path string   `json:"path"`
	Args []string `json:"args"`
}

// Result is how the builder ended.
type Result struct {
	// ExitCode is the builder's exit status, or 128+n when signal n
	// killed it (as a shell reports it).
	ExitCode int `json:"exit_code"`
	// Signal is the signal that killed the builder, 0 if it exited.
	Signal int `json:"signal,omitempty"`
	// CoreDumped is the wait status's core flag: a core went to a
	// core_pattern pipe (the build's own core limit is 0).
	CoreDumped bool `json:"core_dumped,omitempty"`
	// ExecError says why the builder could not be started at all.
	ExecError string `json:"exec_error,omitempty"`
	// Reclaimed says that init, in its own user namespace (UserNS), gave
	// the build's directories back to the caller once the build was dead,
	// so Reclaim need not run.
	Reclaimed bool `json:"reclaimed,omitempty"`
	// Rusage is what the builder and the children it waited for used
	// (wait4), unset when it could not be started.
	Rusage *Rusage `json:"rusage,omitempty"`
}

// Rusage is the part of struct rusage Linux fills in.
type Rusage struct {
	UtimeUsec, StimeUsec int64
	MaxRSSKiB            int64
	MinFlt, MajFlt       int64
	InBlock, OuBlock     int64
	NVCSw, NIVCSw        int64
}
