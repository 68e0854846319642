package build

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/internal/fscred"
	"github.com/sdbuild/sdbuild/outputs"
	"github.com/sdbuild/sdbuild/sandbox"
	"github.com/sdbuild/sdbuild/slots"
)

// PlaceFunc puts a started, held sandbox (init's pid) where it belongs
// before its builder runs (the daemon: a transient systemd scope). req is
// nil for a sandbox prepared ahead of demand (Prepare): the placement then
// says that it waits, and Claim tells it the build's request once one
// takes it.
type PlaceFunc func(ctx context.Context, id string, pid int, req *Request) (*Placement, error)

// Placement is where a build runs.
type Placement struct {
	Unit   string // the systemd unit, for records and messages
	Cgroup string // its cgroup, relative to the cgroup2 root (slot record)
	// BuilderCgroup, when set (the systemd-cgroup feature), is the cgroup
	// directory the builder is created in, delegated to the build.
	BuilderCgroup string
	// End runs when only init is left: it reads what the placement
	// measured, and returns what ends the placement (kills what is left in
	// it). The runner ends it at once when the build did not run to a
	// result, and otherwise in the background, after Linger.
	End func() (stop func())
	// Linger, when set, runs in the background once a build's result is
	// known, before its sandbox is torn down (init's end, its namespaces'
	// teardown, its placement's end, the slot's release): the daemon waits
	// there until the build's clients have exited, so that the teardown
	// does not compete with them for the CPUs.
	Linger func()
	// Claim, when set, runs once a build takes a prepared sandbox, with
	// its request, beside init's finishing the root; the builder starts
	// once it has returned.
	Claim func(req *Request)
}

// Options configure a Runner.
type Options struct {
	StateDir     string
	SandboxPaths []string // HOST[:SANDBOX] given to every build
	Pool         *slots.Pool
	Place        PlaceFunc // nil: the build stays in the caller's cgroup
	// UserNS is set for a caller without root (a user's own daemon): every
	// build's init gets a user namespace of its own, mapped like this.
	UserNS *sandbox.UserNS
	// NoSubIDs, when set, is why builds cannot have a range of ids
	// (uid-range): a user without subordinate ids.
	NoSubIDs error
	// BackgroundCleanup lets Run return once the result is known and the
	// outputs copied, leaving init's exit, the directory's removal and the
	// slot's release to a goroutine (the caller outlives Run, as the daemon
	// does; see Wait).
	BackgroundCleanup bool
	// Released, when set, runs once a build's slot is free again (after
	// Run returned, with BackgroundCleanup): a queue waiting for a slot
	// tries again.
	Released func()
	// Unusable, when set, is why no build can be sandboxed on this host
	// (unprivileged user namespaces disabled): every build is refused.
	Unusable error
	// KeptRoot holds build directories kept for their owners (keep.go);
	// "" keeps none.
	KeptRoot string
	// PreparedProperties are the scope properties of sandboxes prepared
	// ahead of demand (Prepare): those of a build that sets none of its
	// own, the daemon's defaults and caps. Only a build with exactly these
	// takes one.
	PreparedProperties []string
}

// Runner runs builds.
type Runner struct {
	opt      Options
	buildDir string
	cleanups sync.WaitGroup // what builds do after their results
}

// Wait waits until every build that returned its result has also ended
// its init, removed its directory and released its slot
// (BackgroundCleanup).
func (r *Runner) Wait() { r.cleanups.Wait() }

// NewRunner prepares the state directory. Builds live in
// <state-dir>/builds, which only root may enter (CVE-2024-38531).
func NewRunner(opt Options) (*Runner, error) {
	if opt.Pool == nil {
		return nil, errors.New("build runner: no slot pool")
	}
	dir := filepath.Join(opt.StateDir, "builds")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("chmod %s: %w", dir, err)
	}
	return &Runner{opt: opt, buildDir: dir}, nil
}

// Result is how a finished build ended, and where it ran.
type Result struct {
	api.Outcome
	Slot     int
	Unit     string // the systemd unit it ran in, if placed
	Output   string // the output directory it made, if any
	KeptDir  string // the copy of /build kept for the owner, if any
	Started  time.Time
	Finished time.Time
	// Rusage is the builder's, when it ran.
	Rusage *sandbox.Rusage
	// ActionErr is the first failure to write an action's stdout or
	// stderr file.
	ActionErr error
	// Phases time the steps of the run, from its lease to its result.
	Phases []api.Phase
}

// NewRecord is the record of a build of req, by user (uid), before it
// runs: queued, on no slot yet.
func NewRecord(id string, req *Request, user string, uid uint32) *api.Build {
	return &api.Build{
		ID: id, Name: req.Name, User: user, UID: uid, Slot: -1,
		Args: req.Args, Features: req.Features, Output: req.Output,
		Outcome: api.Outcome{Status: api.StatusQueued},
	}
}

// Record writes how the build ended into its record b: its outcome, and
// its unit, slot and times where b has none yet.
func (res *Result) Record(b *api.Build) {
	b.Outcome = res.Outcome
	b.KeptDir = res.KeptDir
	if b.Unit == "" {
		b.Unit = res.Unit
	}
	if b.Slot < 0 {
		b.Slot = res.Slot
	}
	if b.Started.IsZero() {
		b.Started = res.Started
	}
	if b.Finished.IsZero() {
		b.Finished = res.Finished
	}
}

// Run runs req to the end, writing the build's output to log as it comes.
// An error means sdbuild could not run the build (bad request, no free
// slot, a sandbox that could not be built); a build that ran and failed is
// a Result with status failed. Cancelling ctx kills the build.
func (r *Runner) Run(ctx context.Context, id string, req *Request, log io.Writer) (*Result, error) {
	c, err := r.Check(req)
	if err != nil {
		return nil, err
	}
	l, err := r.Lease(id)
	if err != nil {
		return nil, err
	}
	return l.Run(ctx, c, log)
}

// Lease is a UID slot taken for one build and not yet used: Run it, or
// Release it.
type Lease struct {
	r  *Runner
	id string
	l  *slots.Lease
	pr *Prepared // the build's prepared sandbox, if it has one
}

// Lease takes a UID slot for build id. It fails with an error wrapping
// slots.ErrNoFreeSlot when every slot is busy.
func (r *Runner) Lease(id string) (*Lease, error) {
	l, err := r.opt.Pool.Acquire(id)
	if err != nil {
		return nil, err
	}
	return &Lease{r: r, id: id, l: l}, nil
}

// LeasePrepared takes a UID slot for the build a prepared sandbox was made
// for (pr.ID()); the build runs in pr. On error pr is untouched; once the
// lease is made, pr is the lease's (Release discards it).
func (r *Runner) LeasePrepared(pr *Prepared) (*Lease, error) {
	l, err := r.opt.Pool.Acquire(pr.id)
	if err != nil {
		return nil, err
	}
	return &Lease{r: r, id: pr.id, l: l, pr: pr}, nil
}

// Slot is the leased slot's number.
func (l *Lease) Slot() int { return l.l.Slot }

// Release gives the slot back unused, and discards the build's prepared
// sandbox if it had one: no other build may use it.
func (l *Lease) Release() {
	if l.pr != nil {
		l.pr.Discard()
	}
	l.l.Release()
}

// Run runs a checked build on the lease to its end, and releases the slot
// once every process of the build is dead. Its errors do not name the
// build: the caller, who chose the id, does. Cancelling ctx kills the
// build.
func (l *Lease) Run(ctx context.Context, c *Checked, log io.Writer) (*Result, error) {
	return l.r.runLeased(ctx, l.id, c, l.l, l.pr, log)
}

func (r *Runner) runLeased(ctx context.Context, id string, c *Checked, lease *slots.Lease, pr *Prepared, log io.Writer) (*Result, error) {
	req := c.req
	ph := NewPhases(time.Now())
	// What is left once the result is known and the directory removed,
	// init's exit and the slot, runs after Run returns when the runner may
	// (BackgroundCleanup) and init sent a result (waitInit): only init is
	// left then, and the slot stays leased until it is gone.
	var (
		res       *Result
		spec      *sandbox.Spec
		made      bool // spec.Dir is this build's
		reclaimed bool // the build's files are the caller's again
		waitInit  func()
	)
	defer func() {
		if waitInit != nil && r.opt.BackgroundCleanup {
			// init's mounts are in its own namespace: the host's view of
			// the directory can go while it lives.
			if made {
				removeDir(spec, reclaimed)
			}
			ph.Mark("clean up")
			if res != nil {
				res.Phases = ph.List()
			}
			r.cleanups.Add(1)
			go func() {
				defer r.cleanups.Done()
				waitInit()
				lease.Release()
				if r.opt.Released != nil {
					r.opt.Released()
				}
			}()
			return
		}
		if waitInit != nil {
			waitInit()
		}
		if made {
			removeDir(spec, reclaimed)
		}
		lease.Release()
		ph.Mark("clean up")
		if res != nil {
			res.Phases = ph.List()
		}
	}()
	// The directory is named after the slot: the lease makes it ours alone,
	// so whatever a crashed earlier holder left there (its processes are
	// dead: the pool cleared the slot) can go. A prepared sandbox has its
	// own, made with it.
	dir := filepath.Join(r.buildDir, fmt.Sprintf("slot-%d", lease.Slot))
	if pr != nil {
		if !r.Preparable(c) {
			pr.Discard()
			return nil, fmt.Errorf("build %s: its request cannot run in a prepared sandbox", id)
		}
		dir = pr.dir
	}
	spec = &sandbox.Spec{
		BuildID: id, Args: req.Args, Env: req.Env, Features: c.features,
		Inputs: c.inputs, Dir: dir, HostID: lease.FirstID, IDCount: lease.Count,
	}
	spec.HostGID, spec.UserNS = lease.FirstGID, r.opt.UserNS
	if a := req.Action; a != nil {
		spec.Action = a.Sandbox
		if a.Lend != nil {
			ids := IDs{UID: lease.FirstID, GID: spec.HostGID, Count: lease.Count}
			if spec.HostGID == 0 {
				ids.GID = lease.FirstID
			}
			if err := a.Lend(ids); err != nil {
				if a.Return != nil {
					a.Return(ids) // what was lent before the failure
				}
				return nil, err
			}
			// Deferred before the sandbox starts, so it runs after
			// runSandbox has seen every process of the build die.
			defer func() {
				if a.Return == nil {
					return
				}
				if err := a.Return(ids); err != nil {
					fmt.Fprintf(log, "sdbuild: %v\n", err)
				}
			}()
		}
	}
	if req.Owner.UID != os.Geteuid() {
		// A client of the daemon: init opens the client's inputs as the
		// client, so a build reads only what its client can, whatever
		// the client's paths lead to by the time the build starts.
		spec.Client = &fscred.Cred{UID: req.Owner.UID, GID: req.Owner.GID, Groups: req.Owner.Groups}
	}
	if pr != nil {
		// Made fresh with the sandbox, and used by no build before.
	} else if err := removeDir(spec, false); err != nil {
		// A tree that cannot be deleted (a hostile build's, nested deeper
		// than the fd limit, say) must not take the slot out of service:
		// it is moved aside, for an administrator, and named in the log.
		stale := fmt.Sprintf("%s.stale-%s", dir, id)
		if rerr := os.Rename(dir, stale); rerr != nil {
			return nil, fmt.Errorf("remove leftover %s: %w (and moving it aside: %w)", dir, err, rerr)
		}
		fmt.Fprintf(log, "sdbuild: could not remove the leftover build directory of slot %d (%v); moved it to %s\n", lease.Slot, err, stale)
	}
	if pr == nil {
		if err := sandbox.PrepareDir(spec.Dir); err != nil {
			return nil, err
		}
	}
	// Whatever the build left in its directory is deleted without
	// following a single symlink in it.
	made = true
	ph.Mark("build dir")
	res = &Result{Slot: lease.Slot, Started: time.Now()}
	var err error
	reclaimed, waitInit, err = r.runSandbox(ctx, spec, lease, c, res, log, ph, pr)
	if err != nil {
		return nil, err
	}
	res.Finished = time.Now()
	// Every process of the build is dead: without root, take its files
	// back before reading them, unless init did.
	if !reclaimed {
		if err := sandbox.Reclaim(spec); err != nil {
			res.Status, res.Error = api.StatusFailed, err.Error()
			return res, err
		}
		reclaimed = true
		ph.Mark("reclaim")
	}
	if req.keeps(res.Status) {
		r.keep(filepath.Join(dir, "build"), id, req, res, log)
	}
	if res.Status != api.StatusSucceeded || c.output == "" {
		return res, nil
	}
	// Every process of the build is dead now (the sandbox's Result or
	// Wait returned), so nothing can change the tree while it is copied
	// into fresh inodes.
	if err := outputs.Copy(filepath.Join(dir, "out"), c.output, req.Owner); err != nil {
		res.Status, res.Error = api.StatusFailed, err.Error()
		return res, fmt.Errorf("%w: %w", ErrOutputRejected, err)
	}
	res.Output = c.output
	ph.Mark("outputs")
	return res, nil
}

// removeDir deletes a build directory, after taking its files back from
// the build's ids when the caller is not root (unless reclaimed says that
// was done).
func removeDir(s *sandbox.Spec, reclaimed bool) error {
	if !reclaimed {
		if err := sandbox.Reclaim(s); err != nil {
			return err
		}
	}
	return outputs.Remove(s.Dir)
}

// runSandbox starts the sandbox, places it, lets it run under its limits
// and fills in res. reclaimed says that init handed the build's files back
// to the caller (see sandbox.Reclaim).
func (r *Runner) runSandbox(ctx context.Context, spec *sandbox.Spec, lease *slots.Lease, c *Checked, res *Result, log io.Writer, ph *Phases, pr *Prepared) (reclaimed bool, waitInit func(), err error) {
	var p *sandbox.Process
	if pr != nil {
		p = pr.p
	} else if p, err = sandbox.Spawn(spec); err != nil {
		return false, nil, err
	}
	pumping := false
	defer func() {
		if !pumping && p.Stderr != nil {
			p.Stderr.Close()
		}
	}()
	ph.Mark("init start")
	holder := slots.Holder{PID: p.PID()}
	end := func() (stop func()) { return func() {} }
	var pl *Placement
	if pr != nil {
		// Started, placed and its common root built ahead of demand: hand
		// it the build's own part and wait for init to finish the root.
		pl = pr.pl
		if pl != nil {
			end = pl.End
			holder.Unit, holder.Cgroup, res.Unit = pl.Unit, pl.Cgroup, pl.Unit
		}
		claimed := make(chan struct{})
		if pl != nil && pl.Claim != nil {
			go func() { pl.Claim(c.req); close(claimed) }()
		} else {
			close(claimed)
		}
		err := p.Fill(spec)
		if err == nil {
			err = p.Ready()
		}
		ph.Mark("root (prepared: inputs)")
		<-claimed
		ph.Mark("scope described")
		if err != nil {
			p.Kill()
			p.Wait()
			end()()
			return false, nil, err
		}
	} else if r.opt.Place != nil {
		// Placing init (a systemd scope start: one D-Bus job and a cgroup
		// migration that waits for an RCU grace period in the kernel) runs
		// while init builds the sandbox root; the builder starts only once
		// both are done.
		type placed struct {
			pl   *Placement
			err  error
			took time.Duration
		}
		pc := make(chan placed, 1)
		go func() {
			start := time.Now()
			pl, err := r.opt.Place(ctx, spec.BuildID, p.PID(), c.req)
			pc <- placed{pl, err, time.Since(start)}
		}()
		rerr := p.Ready()
		ph.Mark("root")
		got := <-pc
		ph.Mark("scope, after root")
		ph.Add("scope (beside root; not summed)", got.took)
		switch {
		case rerr != nil:
			if got.err == nil {
				got.pl.End()()
			}
			return false, nil, rerr
		case got.err != nil:
			p.Kill()
			p.Wait()
			return false, nil, got.err
		}
		pl = got.pl
		end = pl.End
		holder.Unit, holder.Cgroup, res.Unit = pl.Unit, pl.Cgroup, pl.Unit
	} else if err := p.Ready(); err != nil {
		return false, nil, err
	} else {
		ph.Mark("root")
	}
	if err := lease.SetHolder(holder); err != nil {
		p.Kill()
		p.Wait()
		end()()
		return false, nil, err
	}
	w := newWatch(p, c.req.Timeout, c.req.MaxSilentTime)
	pumped := make(chan struct{})
	pumping = true
	var outT, errT *tee
	stdout := log
	if a := c.req.Action; a != nil {
		outT, errT = &tee{file: a.Stdout, log: log}, &tee{file: a.Stderr, log: log}
		stdout = outT
	}
	go func() {
		var errPumped chan struct{}
		if errT != nil {
			errPumped = make(chan struct{})
			go func() { pumpAll(p.Stderr, errT); close(errPumped) }()
		}
		w.pump(stdout)
		if errPumped != nil {
			<-errPumped // ends with the build, as the log does
		}
		close(pumped)
	}()
	if err := release(p, pl); err != nil {
		fmt.Fprintf(log, "sdbuild: %v\n", err)
		p.Kill()
	}
	go w.enforce(ctx)
	ph.Mark("holder, go")
	sres, err := p.Result()
	ph.Mark("exec, run, wait")
	// With a result only init is left, alone in the placement: read what
	// the placement measured. The log has ended (init closed its ends
	// before the result), and the teardown (the placement's end, init's
	// exit, which tears down its namespaces) is the caller's to run when
	// it likes, once whoever waits for the build is served (Linger).
	// Without a result, processes of the build may live until init is
	// gone: end it all here.
	stop := end()
	if err == nil {
		waitInit = func() {
			// Lingering is for a teardown in the background: run in place,
			// it would hold up Run and so the result the clients wait for.
			if pl != nil && pl.Linger != nil && r.opt.BackgroundCleanup {
				pl.Linger()
			}
			stop()
			p.Wait()
		}
	} else {
		stop()
		p.Wait()
	}
	<-pumped
	if outT != nil {
		res.ActionErr = cmp.Or(outT.err, errT.err)
	}
	res.Rusage = sres.Rusage
	ph.Mark("end")
	reason := w.stop()
	switch {
	case reason == limitCancelled:
		res.Status, res.Error = api.StatusCancelled, "cancelled"
	case reason != "":
		res.Status, res.Limit = api.StatusTimedOut, reason
		res.Error = fmt.Sprintf("%s of %s reached: build killed", reason, w.limit(reason))
	case errors.Is(err, sandbox.ErrKilled):
		res.Status, res.Error = api.StatusFailed, "killed"
	case err != nil:
		return false, waitInit, err
	case sres.ExecError != "":
		res.Status, res.ExitCode, res.Error = api.StatusFailed, sres.ExitCode, sres.ExecError
	case sres.ExitCode != 0:
		res.Status, res.ExitCode, res.Signal, res.CoreDumped = api.StatusFailed, sres.ExitCode, sres.Signal, sres.CoreDumped
		res.Error = "builder " + api.ExitText(sres.ExitCode, sres.Signal, sres.CoreDumped)
	default:
		res.Status = api.StatusSucceeded
	}
	return err == nil && sres.Reclaimed, waitInit, nil
}

// release lets init start the builder, in its delegated cgroup when the
// placement made one.
func release(p *sandbox.Process, pl *Placement) error {
	if pl == nil || pl.BuilderCgroup == "" {
		return p.Go()
	}
	dir, err := os.Open(pl.BuilderCgroup)
	if err != nil {
		return fmt.Errorf("open the build's cgroup: %w", err)
	}
	defer dir.Close()
	return p.GoInCgroup(dir)
}
