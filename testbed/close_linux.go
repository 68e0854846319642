package testbed

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Close kills systemd, which takes every process of the testbed's pid
// namespace with it, waits for it, and removes the testbed's cgroups deepest
// first. It returns an ErrLeftover error if a process is still in the
// testbed's pid or mount namespace, a file of the testbed's /tmp or /var/tmp
// is in the host's, or a cgroup could not be removed. Later calls return the
// first call's result.
func (tb *Testbed) Close() error {
	tb.closeOnce.Do(func() {
		if err := tb.teardown(); err != nil {
			tb.closeErr = fmt.Errorf("close testbed %s: %w", tb.name, err)
		}
	})
	return tb.closeErr
}

func (tb *Testbed) teardown() error {
	var errs []error
	if tb.cmd != nil && tb.cmd.Process != nil {
		// os.Process signals through a pidfd, so a reaped and reused pid is
		// never hit.
		if err := tb.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			errs = append(errs, fmt.Errorf("kill systemd (pid %d): %w", tb.PID, err))
		}
		// The kernel reaps a pid namespace's other processes before its
		// init's exit status is reported, so after this nothing is left in
		// it that was not entered from outside.
		<-tb.exited
	}
	if tb.console != nil {
		if err := tb.console.close(); err != nil {
			errs = append(errs, fmt.Errorf("close console: %w", err))
		}
	}
	for _, ns := range []*namespace{&tb.pidNS, &tb.mntNS} {
		if ns.file == nil {
			continue
		}
		// What entered the namespace from outside (nsenter stays in the
		// host's pid namespace) is not reaped with it: it exits once the
		// child it waits for is killed, a moment later. Give it that
		// moment, then anything still there is a leftover.
		if pids := waitGone(processesIn(ns.name), leftoverGrace); len(pids) > 0 {
			errs = append(errs, fmt.Errorf("processes %v still in %s: %w", pids, ns.name, ErrLeftover))
		}
	}
	if tb.root != nil {
		// Every process of the testbed is gone, so what its /tmp and
		// /var/tmp hold is complete; the mount namespace, held, still has
		// them mounted.
		if err := tmpLeftovers(tb.root, tb.hostTmp); err != nil {
			errs = append(errs, err)
		}
		tb.root.Close()
	}
	tb.pidNS.release()
	tb.mntNS.release()
	if tb.Cgroup != "" {
		if err := removeCgroup(tb.Cgroup); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// leftoverGrace is how long Close waits for processes that entered a
// testbed from outside to follow its systemd.
const leftoverGrace = 5 * time.Second

// waitGone waits until the processes pids have exited or grace has passed,
// and returns those still alive. It watches pidfds (readable once the
// process has exited), so a recycled pid is never mistaken for one of them.
func waitGone(pids []int, grace time.Duration) []int {
	deadline := time.Now().Add(grace)
	var alive []int
	for _, pid := range pids {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue // already gone
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			left := time.Until(deadline)
			if left < 0 {
				left = 0
			}
			n, err := unix.Poll(fds, int(left.Milliseconds()))
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || n == 0 {
				alive = append(alive, pid)
			}
			break
		}
		unix.Close(fd)
	}
	return alive
}
