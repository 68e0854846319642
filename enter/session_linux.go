package enter

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Session is one entered command, from start to exit.
type Session struct {
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

// Start starts the entered command for a running build, in a cgroup of
// its own inside the build's scope. The caller relays it (Relay) or, if it
// cannot, ends it (Finish).
func Start(t Target, opt Options) (*Session, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if !validTerm(opt.Term) {
		return nil, fmt.Errorf("enter build %s: env TERM=%q: not a terminal type", t.ID, opt.Term)
	}
	bl, err := findBuilder(t.Init, t.Cgroup)
	if err != nil {
		return nil, fmt.Errorf("enter build %s: %w", t.ID, err)
	}
	defer bl.pidns.Close()
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		return nil, fmt.Errorf("enter build %s: nsenter not found (install util-linux): %w", t.ID, err)
	}
	args := opt.Args
	if len(args) == 0 {
		args = []string{"/bin/sh"}
	}
	leaf, leafFD, err := makeLeaf(t.Cgroup)
	if err != nil {
		return nil, fmt.Errorf("enter build %s: %w", t.ID, err)
	}
	defer unix.Close(leafFD)
	s := &Session{args: args, leaf: leaf, tty: opt.TTY}
	if err := s.openStdio(opt); err != nil {
		removeLeaf(leaf)
		return nil, fmt.Errorf("enter build %s: %w", t.ID, err)
	}
	cmd := exec.Command(nsenter, nsenterArgs(bl.pid, bl.id, args)...)
	cmd.Env, cmd.Dir = environ(t.ID, opt.Term), "/"
	// Only 0-2: everything else the caller holds is close-on-exec.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.childIn, s.childOut, s.childOut
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setsid:      true, // never the caller's session; with a pty, its own terminal
		Setctty:     opt.TTY,
		Ctty:        0,
		Credential:  &syscall.Credential{Uid: bl.id.hostUID, Gid: bl.id.hostGID, Groups: []uint32{}},
		AmbientCaps: nsenterCaps,
		// Born in the build's scope: accounted to the build, and killed
		// with it when it ends, is cancelled or times out.
		UseCgroupFD: true,
		CgroupFD:    leafFD,
	}
	s.cmd = cmd
	err = startOnThread(cmd, int(bl.pidns.Fd()))
	// The command holds its ends now; the caller must not, or it would
	// never see the output end.
	s.childIn.Close()
	s.childOut.Close()
	if err != nil {
		s.closeStdio()
		removeLeaf(leaf)
		return nil, fmt.Errorf("enter build %s: start %s: %w", t.ID, nsenter, err)
	}
	return s, nil
}

// Args is the command the session runs (/bin/sh when none was given).
func (s *Session) Args() []string { return s.args }

// PID is the host pid of nsenter, which becomes the command.
func (s *Session) PID() int { return s.cmd.Process.Pid }

// openStdio makes the command's stdio: a pty, or a stdin pipe and one
// pipe for both stdout and stderr.
func (s *Session) openStdio(opt Options) error {
	if opt.TTY {
		master, slave, err := openPTY(opt.Rows, opt.Cols)
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

// kill ends every process of the session.
func (s *Session) kill() {
	s.killMu.Lock()
	defer s.killMu.Unlock()
	if s.ended {
		return
	}
	killLeaf(s.leaf)
}

// Finish ends the session: it kills what is left of it, reaps the command
// if nobody else does, closes the session's files and removes its cgroup.
// Relay calls it; a caller that does not relay a started session must.
func (s *Session) Finish() error {
	s.kill()
	if s.cmd.ProcessState == nil {
		s.cmd.Wait()
	}
	s.closeStdio()
	s.killMu.Lock()
	defer s.killMu.Unlock()
	s.ended = true
	return removeLeaf(s.leaf)
}

func (s *Session) closeStdio() {
	s.in.Close()
	s.out.Close()
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
