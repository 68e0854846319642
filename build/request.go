package build

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
	"github.com/sdbuild/sdbuild/outputs"
	"github.com/sdbuild/sdbuild/sandbox"
)

// Request is a build as a client asks for it.
type Request struct {
	Name     string        `json:"name,omitempty"`
	Args     []string      `json:"args"`
	Env      []string      `json:"env,omitempty"`      // KEY=VALUE
	Inputs   []string      `json:"inputs,omitempty"`   // HOST[:SANDBOX]
	Output   string        `json:"output,omitempty"`   // host directory to create; "" discards $out
	Features []string      `json:"features,omitempty"` // uid-range, systemd-cgroup, network
	Timeout  time.Duration `json:"timeout,omitempty"`  // 0: none
	// MaxSilentTime kills a build that prints nothing for this long.
	MaxSilentTime time.Duration `json:"max_silent_time,omitempty"`
	// Properties are systemd scope properties (MemoryMax=1G), applied by
	// the placement; sdbuild run --local has none.
	Properties []string `json:"properties,omitempty"`
	// Owner receives the outputs.
	Owner outputs.Owner `json:"owner"`
	// Action, when set, is a remote-execution action's part (the runner
	// service); it never travels as JSON.
	Action *Action `json:"-"`
	// Keep leaves a copy of /build to Owner: KeepFailed, KeepAlways or
	// KeepNever (keep.go).
	Keep string `json:"keep,omitempty"`
}

// Checked is a request that passed every check that needs no slot.
type Checked struct {
	req      *Request
	features sandbox.Features
	inputs   []sandbox.Mount
	output   string // absolute, or ""
}

// Check validates req against the host before anything starts: unknown
// features, malformed or missing inputs, an output that exists or has no
// parent. Every error wraps ErrBadRequest. It has no side effects.
func (r *Runner) Check(req *Request) (*Checked, error) {
	if r.opt.Unusable != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, r.opt.Unusable)
	}
	c, err := r.checkRequest(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return c, nil
}

func (r *Runner) checkRequest(req *Request) (*Checked, error) {
	if len(req.Args) == 0 || req.Args[0] == "" {
		return nil, fmt.Errorf("no command to run: give one after --")
	}
	if req.Timeout < 0 || req.MaxSilentTime < 0 {
		return nil, fmt.Errorf("timeout %s / max-silent-time %s: must not be negative", req.Timeout, req.MaxSilentTime)
	}
	if err := checkKeep(req.Keep); err != nil {
		return nil, err
	}
	if req.Keep != KeepNever && r.opt.KeptRoot == "" {
		return nil, fmt.Errorf("keep %s: build directories are kept by the sdbuild daemon only; run without --local", req.Keep)
	}
	f, err := sandbox.ParseFeatures(req.Features)
	if err != nil {
		return nil, err
	}
	if err := f.Each(r.provides); err != nil {
		return nil, err
	}
	if len(req.Properties) > 0 && r.opt.Place == nil {
		return nil, fmt.Errorf("scope properties %q need the build's own systemd scope, which only the sdbuild daemon creates; run without --local", req.Properties)
	}
	c := &Checked{req: req, features: f}
	for i, s := range append(append([]string(nil), r.opt.SandboxPaths...), req.Inputs...) {
		m, err := sandbox.ParseMount(s)
		if err != nil {
			return nil, err
		}
		// The request's inputs are opened with the owner's credentials;
		// sandbox-paths, the administrator's, with the runner's own.
		m.Client = i >= len(r.opt.SandboxPaths)
		// A missing input is an error before anything starts; Lstat, since
		// a symlink input is shown as the symlink itself.
		if _, err := os.Lstat(m.Host); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("input %s: %w", m, err)
		}
		c.inputs = append(c.inputs, m)
	}
	// Everything else the sandbox would refuse (environment, clashing
	// inputs) is refused now, before a slot is taken.
	draft := sandbox.Spec{BuildID: "check", Args: req.Args, Env: req.Env, Features: f,
		Inputs: c.inputs, Dir: "/", HostID: 1, IDCount: 1}
	if req.Action != nil {
		draft.Action = req.Action.Sandbox
	}
	if err := draft.Validate(); err != nil {
		return nil, err
	}
	if req.Output != "" {
		out, err := filepath.Abs(req.Output)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", req.Output, err)
		}
		if _, err := os.Lstat(out); err == nil {
			return nil, fmt.Errorf("output %s: already exists; remove it or choose another --output", req.Output)
		}
		if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("output %s: parent directory %s does not exist", req.Output, filepath.Dir(out))
		}
		c.output = out
	}
	return c, nil
}

// provides refuses feature f when this runner, on this host, cannot give
// a build what sandbox's table says f needs.
func (r *Runner) provides(f sandbox.Feature, n sandbox.Needs) error {
	if n.FullRange && r.opt.NoSubIDs != nil {
		return fmt.Errorf("feature %s: %w", f, r.opt.NoSubIDs)
	}
	if n.Root && r.opt.UserNS != nil {
		return fmt.Errorf("feature %s needs a device node of the build's own, which only root can make: use the system daemon", f)
	}
	for _, d := range n.Devices {
		if err := sandbox.CheckDevice(d.Path); err != nil {
			return fmt.Errorf("feature %s: this host has no usable %s (%w); %s", f, d.Path, err, d.Hint)
		}
	}
	for _, e := range n.Executables {
		if _, err := exec.LookPath(e.Name); err != nil {
			return fmt.Errorf("feature %s needs %s: %w", f, e, err)
		}
	}
	if n.Scope {
		if r.opt.Place == nil {
			return fmt.Errorf("feature %s needs a delegated systemd scope for the build, which only the sdbuild daemon creates; run without --local", f)
		}
		if _, err := cgroup2.Root(); err != nil {
			return fmt.Errorf("feature %s: %w", f, err)
		}
		if _, err := cgroup2.DelegateFiles(); err != nil {
			return fmt.Errorf("feature %s: %w", f, err)
		}
	}
	return nil
}

// NewID returns a fresh build id: 12 hex digits, random so that two
// daemons or a daemon and a --local run never pick the same one.
func NewID() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux ≥ 3.17
	}
	return hex.EncodeToString(b[:])
}
