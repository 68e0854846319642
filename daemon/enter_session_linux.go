package daemon

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// enterSession is one entered command, from start to exit.
type enterSession struct {
	args              []string
	cmd               *exec.Cmd
	leaf              string   // the session's cgroup, relative to the hierarchy's root
	tty               bool     // in and out are the same pty master
	in                *os.File // the command's stdin: pipe or pty master
	out               *os.File // its stdout and stderr: pipe or pty master
	childIn, childOut *os.File // the command's ends, closed once it has started

	killMu sync.Mutex
	ended  bool // protected by killMu: the session is dead and its cgroup removed
}

// startEnter starts the entered command for a running build, in a cgroup
// of its own inside the build's scope.
func (d *Daemon) startEnter(id string, er *api.EnterRequest, term string) (*enterSession, error) {
	// The cgroup systemd gave the scope, not one rebuilt from its name:
	// a scope placed elsewhere must not send the session there.
	init, scope, err := d.runningInit(id)
	if err != nil {
		return nil, fmt.Errorf("%w: build %s is not running (yet or any more)", errBadInput, id)
	}
	bl, err := findBuilder(init, scope)
	if err != nil {
		return nil, fmt.Errorf("enter build %s: %w", id, err)
	}
	defer bl.pidns.Close()
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		return nil, fmt.Errorf("enter build %s: nsenter not found (install util-linux): %w", id, err)
	}
	args := er.Args
	if len(args) == 0 {
		args = []string{"/bin/sh"}
	}
	leaf, leafFD, err := makeLeaf(scope)
	if err != nil {
		return nil, fmt.Errorf("enter build %s: %w", id, err)
	}
	defer unix.Close(leafFD)
	s := &enterSession{args: args, leaf: leaf, tty: er.TTY}
	if err := s.openStdio(er); err != nil {
		s.removeLeaf()
		return nil, fmt.Errorf("enter build %s: %w", id, err)
	}
	cmd := exec.Command(nsenter, nsenterArgs(bl.pid, bl.id, args)...)
	cmd.Env, cmd.Dir = enterEnv(id, term), "/"
	// Only 0-2: everything else the daemon holds is close-on-exec.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.childIn, s.childOut, s.childOut
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setsid:      true, // never the daemon's session; with a pty, its own terminal
		Setctty:     er.TTY,
		Ctty:        0,
		Credential:  &syscall.Credential{Uid: bl.id.hostUID, Gid: bl.id.hostGID, Groups: []uint32{}},
		AmbientCaps: enterCaps,
		// Born in the build's scope: accounted to the build, and killed
		// with it when it ends, is cancelled or times out.
		UseCgroupFD: true,
		CgroupFD:    leafFD,
	}
	s.cmd = cmd
	err = startLocked(cmd, int(bl.pidns.Fd()))
	// The command holds its ends now; the daemon must not, or it would
	// never see the output end.
	s.childIn.Close()
	s.childOut.Close()
	if err != nil {
		s.closeStdio()
		s.removeLeaf()
		return nil, fmt.Errorf("enter build %s: start %s: %w", id, nsenter, err)
	}
	return s, nil
}

// openStdio makes the command's stdio: a pty, or a stdin pipe and one
// pipe for both stdout and stderr.
func (s *enterSession) openStdio(er *api.EnterRequest) error {
	if er.TTY {
		master, slave, err := openPTY(er.Rows, er.Cols)
		if err != nil {
			return err
		}
		s.in, s.out, s.childIn, s.childOut = master, master, slave, slave
		return nil
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("stdin pipe: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return fmt.Errorf("output pipe: %w", err)
	}
	s.in, s.out, s.childIn, s.childOut = inW, outR, inR, outW
	return nil
}

// startLocked starts cmd from a thread of its own, which first joins a
// new, empty session keyring (an entered command, like the builder, must
// hold no key of the daemon's; keyrings belong to a thread's credentials,
// which the child inherits) and sets the pid namespace for its children to
// the build's. The command is thus born in the build's pid namespace, and
// the session and process group it makes there (Setsid) are visible in it:
// nsenter --pid would fork after joining instead, leaving the command in a
// session and process group created outside, which an interactive shell
// cannot give the terminal back to when it exits. The thread dies with the
// goroutine, taking its changed state along.
func startLocked(cmd *exec.Cmd, pidns int) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Deliberately no UnlockOSThread: this thread's state changes.
		// x/sys's KeyctlJoinSessionKeyring passes a name; NULL asks for a
		// new anonymous keyring.
		if _, _, e := unix.Syscall(unix.SYS_KEYCTL, unix.KEYCTL_JOIN_SESSION_KEYRING, 0, 0); e != 0 {
			errc <- fmt.Errorf("new session keyring: %w", e)
			return
		}
		if err := unix.Setns(pidns, unix.CLONE_NEWPID); err != nil {
			errc <- os.NewSyscallError("setns pid", err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

// relay carries frames between conn and the command until it has exited,
// and returns its exit status, which it sends last.
func (s *enterSession) relay(conn net.Conn, r *bufio.Reader) (int, error) {
	var wmu sync.Mutex
	send := func(t api.FrameType, p []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return api.WriteFrame(conn, t, p)
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		buf := make([]byte, 32<<10)
		for {
			n, err := s.out.Read(buf)
			if n > 0 && send(api.FrameData, buf[:n]) != nil {
				s.kill() // the client is gone
			}
			if err != nil {
				return
			}
		}
	}()
	go s.input(r)
	s.cmd.Wait()
	code := exitStatus(s.cmd.ProcessState)
	// Whatever the command left running ends with it: it holds the output
	// open, and it is the session's, not the build's.
	s.kill()
	select {
	case <-drained:
	case <-time.After(enterDrain):
	}
	// Once the client has the exit status nothing of the session is left.
	err := s.finish()
	send(api.FrameExit, api.ExitPayload(code))
	return code, err
}

// input applies the client's frames until the connection ends. A client
// that goes away takes the session with it.
func (s *enterSession) input(r io.Reader) {
	for {
		t, p, err := api.ReadFrame(r)
		if err != nil {
			s.kill()
			return
		}
		switch t {
		case api.FrameData:
			s.in.Write(p)
		case api.FrameClose:
			if !s.tty {
				s.in.Close()
			}
		case api.FrameResize:
			if rows, cols, err := api.ParseResize(p); err == nil && s.tty {
				setWinsize(s.in, rows, cols)
			}
		}
	}
}

// kill ends every process of the session.
func (s *enterSession) kill() {
	s.killMu.Lock()
	defer s.killMu.Unlock()
	if s.ended {
		return
	}
	if err := cgroup2.Kill(s.leaf); err != nil {
		// Without cgroup.kill (Linux < 5.14): a few rounds over
		// cgroup.procs. A session that forks faster than that outlives
		// its client, but not its build, whose scope is killed whole.
		killProcs(s.leaf)
	}
}

// finish ends the session: it kills what is left of it, reaps the
// command if nobody else does, closes the session's files and removes its
// cgroup.
func (s *enterSession) finish() error {
	s.kill()
	if s.cmd.ProcessState == nil {
		s.cmd.Wait()
	}
	s.closeStdio()
	s.killMu.Lock()
	defer s.killMu.Unlock()
	s.ended = true
	return s.removeLeaf()
}

func (s *enterSession) closeStdio() {
	s.in.Close()
	s.out.Close()
}

// removeLeaf removes the session's cgroup once its processes are gone
// (the kernel refuses to remove a populated cgroup: EBUSY until then).
func (s *enterSession) removeLeaf() error {
	dir, err := cgroup2.Dir(s.leaf)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(enterDrain)
	for {
		err := unix.Rmdir(dir)
		switch {
		case err == nil, errors.Is(err, unix.ENOENT):
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("remove session cgroup %s: %w", dir, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func killProcs(rel string) {
	dir, err := cgroup2.Dir(rel)
	if err != nil {
		return
	}
	for range 10 {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil || len(strings.TrimSpace(string(b))) == 0 {
			return
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// makeLeaf creates the session's cgroup in the build's scope and opens it
// for clone. A leaf of its own, not the scope itself: a scope whose
// controllers are delegated (systemd-cgroup) holds processes only in its
// leaves, and the session can then be killed without touching the build.
func makeLeaf(scope string) (rel string, fd int, err error) {
	var b [6]byte
	rand.Read(b[:])
	rel = scope + "/sdbuild-enter-" + hex.EncodeToString(b[:])
	dir, err := cgroup2.Dir(rel)
	if err != nil {
		return "", -1, err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", -1, fmt.Errorf("create the session's cgroup: %w", err)
	}
	fd, err = unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Rmdir(dir)
		return "", -1, fmt.Errorf("open the session's cgroup %s: %w", dir, err)
	}
	return rel, fd, nil
}

// exitStatus is a shell's view of how a process ended.
func exitStatus(ps *os.ProcessState) int {
	if ps == nil {
		return 255
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
