package build

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

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
	f, err := sandbox.ParseFeatures(req.Features)
	if err != nil {
		return nil, err
	}
	if f.UIDRange && r.opt.NoSubIDs != nil {
		return nil, fmt.Errorf("feature %s: %w", sandbox.FeatureUIDRange, r.opt.NoSubIDs)
	}
	if (f.KVM || f.TUN) && r.opt.UserNS != nil {
		return nil, fmt.Errorf("features %s and %s need a device node of the build's own, which only root can make: use the system daemon", sandbox.FeatureKVM, sandbox.FeatureTUN)
	}
	for _, d := range []struct {
		on         bool
		name, path string
		hint       string
	}{
		{f.KVM, "kvm", sandbox.DevKVM, "load the kvm_intel or kvm_amd module, or build on a host with hardware virtualization"},
		{f.TUN, "tun", sandbox.DevTUN, "load the tun module"},
	} {
		if d.on {
			if err := sandbox.CheckDevice(d.path); err != nil {
				return nil, fmt.Errorf("feature %s: this host has no usable %s (%w); %s", d.name, d.path, err, d.hint)
			}
		}
	}
	if len(req.Properties) > 0 && r.opt.Place == nil {
		return nil, fmt.Errorf("scope properties %q need the build's own systemd scope, which only the sdbuild daemon creates; run without --local", req.Properties)
	}
	if f.SystemdCgroup && r.opt.Place == nil {
		return nil, fmt.Errorf("feature %s needs a delegated systemd scope for the build, which only the sdbuild daemon creates; run without --local", sandbox.FeatureSystemdCgroup)
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

// NewID returns a fresh build id: 12 hex digits, random so that two
// daemons or a daemon and a --local run never pick the same one.
func NewID() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux ≥ 3.17
	}
	return hex.EncodeToString(b[:])
}
