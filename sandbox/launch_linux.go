package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// initCloneflags are init's namespaces. init stays in the caller's user
// namespace so that the mounts it makes are owned by a more privileged user
// namespace than the builder's, and are therefore locked for the builder.
// A caller without root gives init a user namespace of its own (UserNS),
// which is still the builder's parent: the mounts stay locked.
const initCloneflags = unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWNET

// ReadyTimeout bounds how long init may take to build the root.
const ReadyTimeout = 30 * time.Second

// readyTimeout is ReadyTimeout, shortened by tests.
var readyTimeout = ReadyTimeout

// endGrace is how long init has to exit once its control socket is closed
// without a result read (its cue to go) before it is killed.
const endGrace = 2 * time.Second

// initStage is the argv[0] init starts as; tests replace it with a
// stand-in that breaks the protocol.
var initStage = initArg0

var noDeadline time.Time

// Process is a started sandbox: init, held before the builder runs until
// Go is called.
type Process struct {
	// Log carries the builder's stdout and stderr (and init's own
	// complaints), until every process of the build has exited: it ends
	// before Result returns a result.
	Log io.ReadCloser
	// Stderr, for an Action, carries the builder's stderr (Log then
	// carries its stdout and init's complaints); nil otherwise.
	Stderr io.ReadCloser

	pid    int
	ctl    *conn
	exited chan struct{} // closed once init has been reaped
	state  *os.ProcessState
	err    error // protected by exited: written before close
	proc   *os.Process
	net    *network // the route out, with the network feature
	spec   *Spec
	// prepared: started by SpawnPrepared and not filled yet.
	prepared bool

	closeOnce  sync.Once
	resultOnce sync.Once
	endKilled  bool // end killed init; not the caller's Kill
	res        Result
	resErr     error
}

// Start validates s, starts init and returns once the sandbox root is
// built and init waits for Go. On error nothing of the build is running.
//
// The build directory must have been made by PrepareDir.
func Start(s *Spec) (*Process, error) {
	p, err := Spawn(s)
	if err != nil {
		return nil, err
	}
	if err := p.Ready(); err != nil {
		return nil, err
	}
	return p, nil
}

// Spawn validates s, starts init and hands it the spec. It returns while
// init builds the root, so that the caller can place init (in a systemd
// scope, say) meanwhile; Ready waits for the root.
func Spawn(s *Spec) (*Process, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return spawn(s, false)
}

// SpawnPrepared starts a sandbox ahead of demand: init builds what every
// build has alike (a fresh root with /etc, /dev, /proc and the empty build
// directories) from s, which has no Args, Inputs, Env or Client and no
// slot's ids yet (HostID, HostGID and IDCount are ignored), and Ready
// returns once that is done. Fill then hands it the build's own part, and
// Ready waits for init to finish the root with it; only then may Go run the
// builder. Nothing of one build is ever given to another: a prepared
// sandbox is filled once. It is for a build without features (their
// devices and mounts depend on the slot) that is not an action. A caller
// without root gives init's namespace its whole pool (UserNS.Pool), since
// the slot is not known yet.
func SpawnPrepared(s *Spec) (*Process, error) {
	if s.Features != (Features{}) || s.Action != nil {
		return nil, fmt.Errorf("%w: a prepared sandbox is for a build without features that is not an action", ErrInvalidSpec)
	}
	if err := CanPrepare(s.UserNS); err != nil {
		return nil, err
	}
	// The rest of s is checked with stand-ins for what Fill brings: any
	// ids the spec's checks accept, the slot's being unknown yet.
	c := *s
	c.Args, c.HostID, c.HostGID, c.IDCount = []string{"/prepared"}, 1, 0, 1
	switch u := s.UserNS; {
	case u == nil:
	case u.Sub:
		c.HostID, c.HostGID = u.Pool.UID, u.Pool.GID
	default:
		c.HostID, c.HostGID = u.UID, u.GID
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return spawn(s, true)
}

// Fill gives a prepared sandbox (SpawnPrepared) the build's own part: s is
// the whole spec, the same as the prepared one but for Args, Env, Inputs,
// Client and the slot's ids. Ready then waits for the finished root.
func (p *Process) Fill(s *Spec) error {
	if !p.prepared {
		return fmt.Errorf("fill sandbox %s: not a prepared sandbox, or filled already", p.spec.BuildID)
	}
	if err := s.checkFills(p.spec); err != nil {
		return fmt.Errorf("%w: fill sandbox %s: %w", ErrInvalidSpec, p.spec.BuildID, err)
	}
	if err := s.Validate(); err != nil {
		return err
	}
	p.prepared, p.spec = false, s
	if err := p.ctl.send(message{Step: stepRequest, Spec: s}, nil); err != nil {
		return fmt.Errorf("fill sandbox %s: %w", s.BuildID, err)
	}
	return nil
}

func spawn(s *Spec, prepared bool) (_ *Process, err error) {
	parentEnd, childEnd, err := socketPair("sdbuild-control", true)
	if err != nil {
		return nil, err
	}
	defer childEnd.Close()
	logR, logW, err := os.Pipe()
	if err != nil {
		parentEnd.Close()
		return nil, fmt.Errorf("log pipe: %w", err)
	}
	defer logW.Close()

	p := &Process{Log: logR, ctl: newConn(parentEnd), exited: make(chan struct{}), spec: s, prepared: prepared}
	var errW *os.File
	if s.Action != nil {
		var errR *os.File
		if errR, errW, err = os.Pipe(); err != nil {
			parentEnd.Close()
			logR.Close()
			return nil, fmt.Errorf("stderr pipe: %w", err)
		}
		defer errW.Close()
		p.Stderr = errR
		defer func() {
			if err != nil {
				errR.Close()
			}
		}()
	}
	started := make(chan error, 1)
	go p.runOnThread(childEnd, logW, errW, started)
	if err := <-started; err != nil {
		p.close()
		flags := uintptr(initCloneflags)
		if s.UserNS != nil {
			flags |= unix.CLONE_NEWUSER
		}
		if nerr := probeNamespaces(flags); nerr != nil {
			return nil, nerr
		}
		return nil, fmt.Errorf("start sandbox init: %w", err)
	}
	if s.UserNS != nil {
		// init waits for the spec before it does anything, so its maps
		// are in place before it needs them.
		err := s.mapUserNS(p.pid)
		if err == nil && s.UserNS.Sub {
			err = sendMapped(p.ctl)
		}
		if err != nil {
			p.Kill()
			<-p.exited
			p.close()
			return nil, fmt.Errorf("start sandbox init: %w", err)
		}
	}
	if err := p.ctl.send(message{Step: stepSpec, Spec: s, Prepared: prepared}, nil); err != nil {
		p.Kill()
		<-p.exited
		p.close()
		return nil, fmt.Errorf("start sandbox init: %w", err)
	}
	return p, nil
}

// Ready waits until init has built the sandbox root (and, with the network
// feature, the route out is attached). On error the build is dead.
func (p *Process) Ready() error {
	s := p.spec
	if _, _, err := p.ctl.recv(stepReady, time.Now().Add(readyTimeout)); err != nil {
		p.Kill()
		<-p.exited
		p.close()
		return err
	}
	if s.Features.Network && !s.builderNetwork() && p.net == nil {
		var err error
		if p.net, err = startNetwork(p.pid); err != nil {
			p.Kill()
			<-p.exited
			p.close()
			return err
		}
	}
	return nil
}

// runOnThread starts init and waits for it on one locked OS thread: init's
// parent-death signal fires when the thread that forked it exits, not the
// process (Go issue 27505), so that thread must outlive init.
func (p *Process) runOnThread(ctl, logW, errW *os.File, started chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		started <- err
		close(p.exited)
		return
	}
	attr := &syscall.SysProcAttr{
		Cloneflags: initCloneflags,
		Pdeathsig:  syscall.SIGKILL,
		Setsid:     true,
	}
	if p.spec.UserNS != nil {
		p.spec.UserNS.applyUserNS(attr)
	}
	cmd := &exec.Cmd{
		Args:        p.spec.UserNS.stageArgs(initStage),
		Env:         []string{"GOMAXPROCS=1"},
		Stdin:       devnull,
		Stdout:      logW,
		Stderr:      logW,
		ExtraFiles:  []*os.File{ctl},
		SysProcAttr: attr,
	}
	if errW != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, errW) // actionStderrFd
	}
	setStagePath(cmd)
	err = cmd.Start()
	devnull.Close()
	if err != nil {
		started <- err
		close(p.exited)
		return
	}
	p.pid = cmd.Process.Pid
	p.proc = cmd.Process
	addInit(p.pid)
	started <- nil
	waitInitExit(p.pid) // no longer counted live before its pid is free
	p.err = cmd.Wait()
	p.state = cmd.ProcessState
	close(p.exited)
}

// PID is init's pid in the caller's pid namespace.
func (p *Process) PID() int { return p.pid }

// Go releases init to start the builder.
func (p *Process) Go() error { return p.ctl.send(message{Step: stepGo}, nil) }

// GoInCgroup releases init to start the builder in the cgroup directory
// dir (an O_PATH or O_DIRECTORY file), which becomes the root of the
// builder's cgroup namespace: the systemd-cgroup feature.
func (p *Process) GoInCgroup(dir *os.File) error {
	return p.ctl.send(message{Step: stepGo}, dir)
}

// Kill ends the whole build: SIGKILL to init takes its pid namespace, and
// so every process of the build, with it. It is safe to call at any time.
func (p *Process) Kill() error {
	if p.proc == nil {
		return nil
	}
	if err := p.proc.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill sandbox init %d: %w", p.pid, err)
	}
	return nil
}

// Alive reports whether init has not exited, whether or not it has been
// reaped yet (Exited closes only once it has).
func (p *Process) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
	}
	var info unix.Siginfo
	err := unix.Waitid(unix.P_PID, p.pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	// A pid field of 0 means init has not exited; WNOWAIT leaves it for
	// the goroutine that waits for it.
	return err == nil && siginfoPID(&info) == 0
}

// Exited is closed once init, and with it every process of the build, is
// gone.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Result waits for the builder's result. When it returns without error
// the builder and every other process of the build are dead; only init
// remains, alone in the build's cgroup, so that the caller can read what
// the cgroup measured. Wait ends init. A build killed through Kill returns
// ErrKilled.
func (p *Process) Result() (Result, error) {
	p.resultOnce.Do(func() { p.res, p.resErr = p.readResult() })
	return p.res, p.resErr
}

// readResult waits, as long as the build runs, for init's result. init
// sends it, or exits (closing its end), or is killed: each ends the read.
// When no result can be read, init is ended here rather than waited for:
// it would otherwise wait for the cue that a result was read.
func (p *Process) readResult() (Result, error) {
	m, rerr := p.recvResult()
	if rerr == nil && m.Result != nil {
		return *m.Result, nil
	}
	if rerr == nil {
		rerr = fmt.Errorf("wait for %s: message without a result", stepResult)
	}
	p.end()
	if p.state != nil && !p.state.Exited() && !p.endKilled {
		if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return Result{}, ErrKilled
		}
	}
	if errors.Is(rerr, ErrSetup) {
		return Result{}, rerr
	}
	return Result{}, fmt.Errorf("sandbox init %d ended without a result (%v): %w", p.pid, p.state, rerr)
}

// end ends init without a result: it closes the control socket, init's
// cue to exit, and kills init if it has not exited endGrace later. When
// end returns, init and every process of the build are dead.
func (p *Process) end() {
	p.close()
	select {
	case <-p.exited:
		return
	case <-time.After(endGrace):
	}
	p.endKilled = true
	p.Kill()
	<-p.exited // SIGKILL to init ends its pid namespace
}

// Wait waits for the result, ends init and waits for it to exit. When it
// returns every process of the build is dead.
func (p *Process) Wait() (Result, error) {
	res, err := p.Result()
	p.close() // init's cue to exit
	<-p.exited
	return res, err
}

func (p *Process) close() {
	p.closeOnce.Do(func() {
		p.ctl.Close()
		if p.net != nil {
			p.net.stop()
		}
	})
}

// siginfoPID is si_pid of a SIGCHLD siginfo, which x/sys's Siginfo keeps
// in its padding: the union that starts after signo, errno, code and the
// alignment word (offset 16 on every 64-bit Linux) begins with si_pid.
func siginfoPID(info *unix.Siginfo) int32 {
	return *(*int32)(unsafe.Add(unsafe.Pointer(info), 16))
}
