package testbed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Testbed is one running throwaway systemd.
type Testbed struct {
	// PID is systemd's pid in the host's pid namespace.
	PID int
	// Cgroup is the testbed's cgroup as a host path under the cgroup2 mount;
	// inside the testbed it is "/".
	Cgroup string

	name    string
	cmd     *exec.Cmd
	console *console
	exited  chan struct{} // closed once systemd has been reaped
	waitErr error         // systemd's exit status, valid once exited is closed
	// pidNS and mntNS are systemd's namespaces, held open until Close has
	// checked that no process is left in them.
	pidNS, mntNS namespace
	// root is systemd's root directory, through which Close reads the
	// testbed's /tmp and /var/tmp; hostTmp is what the host's held at boot.
	root    *os.File
	hostTmp hostTmp

	commands atomic.Int64 // numbers the scopes of Command

	closeOnce sync.Once
	closeErr  error
}

// Boot starts a testbed and returns once its systemd has finished start-up in
// state running or degraded. On failure everything already set up is torn
// down again.
func Boot(ctx context.Context, opt Options) (*Testbed, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	ctx, cancel := context.WithTimeout(ctx, opt.BootTimeout)
	defer cancel()
	tb := &Testbed{name: opt.Name, exited: make(chan struct{})}
	if err := tb.boot(ctx, opt); err != nil {
		return nil, errors.Join(fmt.Errorf("boot testbed %s: %w", opt.Name, err), tb.Close())
	}
	return tb, nil
}

func (tb *Testbed) boot(ctx context.Context, opt Options) error {
	cg, err := newCgroup(opt.Name)
	if err != nil {
		return err
	}
	tb.Cgroup = cg
	if tb.console, err = openConsole(); err != nil {
		return err
	}
	go tb.console.copyTo(opt.Log)
	notify, err := listenNotify()
	if err != nil {
		return err
	}
	defer notify.Close()
	cfg := innerConfig{
		Hostname:     opt.Name,
		Console:      tb.console.path,
		NotifySocket: notify.LocalAddr().String(),
	}
	tb.hostTmp = readHostTmp()
	if err := tb.startSystemd(ctx, cfg, notify); err != nil {
		return err
	}
	out, _ := tb.nsenter(ctx, "/", "systemctl", "is-system-running", "--wait").Output()
	if !systemStateOK(string(out)) {
		return fmt.Errorf("%w: systemctl is-system-running says %q", ErrNotRunning, out)
	}
	return nil
}

// startSystemd starts the namespace stage and waits until systemd, which it
// becomes, says READY=1. Around that it puts back the sysctls systemd raises.
func (tb *Testbed) startSystemd(ctx context.Context, cfg innerConfig, notify *net.UnixConn) (err error) {
	lock, err := lockSysctls(ctx)
	if err != nil {
		return err
	}
	defer lock.Close()
	sysctls := readSysctls()
	defer func() {
		// systemd has raised them by now, or died; see hostSysctls.
		if rerr := restoreSysctls(sysctls); err == nil {
			err = rerr
		}
	}()
	report, err := tb.start(ctx, cfg)
	if err != nil {
		return err
	}
	if err := tb.awaitExec(ctx, report); err != nil {
		return err
	}
	if tb.pidNS, err = openNamespace(tb.PID, "pid"); err != nil {
		return err
	}
	if tb.mntNS, err = openNamespace(tb.PID, "mnt"); err != nil {
		return err
	}
	// O_PATH: only for lookups below it, which is what Close does.
	if tb.root, err = os.OpenFile(fmt.Sprintf("/proc/%d/root", tb.PID), unix.O_PATH|unix.O_DIRECTORY, 0); err != nil {
		return fmt.Errorf("open root of systemd (pid %d): %w", tb.PID, err)
	}
	// Not reaped yet after those opens, so the pid was still systemd's
	// during them, not a new process's that got it.
	if tb.closed() {
		return fmt.Errorf("%w: %v", ErrExited, tb.waitErr)
	}
	return tb.awaitReady(ctx, notify)
}

// listenNotify opens the socket systemd reports READY=1 on. It is abstract,
// so the testbed's fresh /run does not hide it; the testbed shares the host's
// network namespace, which abstract names belong to.
func listenNotify() (*net.UnixConn, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	addr := &net.UnixAddr{Name: "@sdbuild-testbed/" + hex.EncodeToString(b[:]), Net: "unixgram"}
	c, err := net.ListenUnixgram("unixgram", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on notify socket %s: %w", addr.Name, err)
	}
	return c, nil
}

// start re-executes this binary as the namespace stage, inside the testbed's
// cgroup, and sends it cfg. It returns the read end of the stage's report
// pipe.
func (tb *Testbed) start(ctx context.Context, cfg innerConfig) (*os.File, error) {
	cgroup, err := os.OpenFile(tb.Cgroup, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer cgroup.Close()
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer cfgR.Close()
	defer cfgW.Close()
	reportR, reportW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer reportW.Close()
	slave := tb.console.slave
	tb.cmd = &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{innerArg0},
		Env:        []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
		Stdin:      slave,
		Stdout:     slave,
		Stderr:     slave,
		ExtraFiles: []*os.File{cfgR, reportW}, // configFD, reportFD
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS,
			UseCgroupFD: true,
			CgroupFD:    int(cgroup.Fd()),
			// A session of its own: a Ctrl-C on the caller's terminal must
			// not reach systemd, which treats SIGINT as ctrl-alt-del.
			Setsid:    true,
			Pdeathsig: syscall.SIGKILL,
		},
	}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that started the child exits, so
		// this thread stays locked, and alive, until systemd is reaped.
		runtime.LockOSThread()
		if err := tb.cmd.Start(); err != nil {
			started <- err
			close(tb.exited)
			return
		}
		started <- nil
		tb.waitErr = tb.cmd.Wait()
		close(tb.exited)
	}()
	if err := <-started; err != nil {
		reportR.Close()
		return nil, fmt.Errorf("start namespace stage: %w", err)
	}
	tb.PID = tb.cmd.Process.Pid
	if err := json.NewEncoder(cfgW).Encode(cfg); err != nil {
		reportR.Close()
		return nil, fmt.Errorf("send config to namespace stage: %w", err)
	}
	return reportR, nil
}

// awaitExec reads the namespace stage's report: end of file alone means it
// exec'd systemd (the pipe is close-on-exec), anything else is its error.
func (tb *Testbed) awaitExec(ctx context.Context, report *os.File) error {
	defer report.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = report.SetReadDeadline(d)
	}
	msg, err := io.ReadAll(report)
	if err != nil {
		return fmt.Errorf("read namespace stage report: %w", err)
	}
	if len(msg) > 0 {
		return fmt.Errorf("namespace stage: %s", msg)
	}
	return nil
}

// awaitReady waits for READY=1 from systemd, which PID 1 sends once start-up
// has finished, or for systemd's death, or for ctx.
func (tb *Testbed) awaitReady(ctx context.Context, notify *net.UnixConn) error {
	ready := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := notify.ReadFromUnix(buf)
			if err != nil {
				ready <- fmt.Errorf("read notify socket: %w", err)
				return
			}
			if isReady(buf[:n]) {
				ready <- nil
				return
			}
		}
	}()
	// Unblocks the reader if we return first.
	defer notify.SetReadDeadline(time.Now())
	select {
	case err := <-ready:
		return err
	case <-tb.exited:
		return fmt.Errorf("%w: %v", ErrExited, tb.waitErr)
	case <-ctx.Done():
		return fmt.Errorf("wait for READY=1: %w", ctx.Err())
	}
}
