package slots

import (
	"errors"
	"math"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// This file finds, kills and waits for processes through pidfds. A pidfd
// names one process for its whole life, so once a pidfd is open and the
// process is seen alive through it, its pid cannot have been recycled: what
// was read from /proc/PID before that check was about this very process.

// gone reports whether err from reading /proc/PID means the process is gone.
func gone(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ESRCH)
}

// pidStat reads state and start time of pid.
func pidStat(pid int) (state byte, start uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	return parseStat(b)
}

// exited reports whether the process behind pidfd has exited. A pidfd polls
// readable once the whole thread group has exited, so zombies count as dead
// and a zombie leader with live threads does not. A failed poll counts as
// alive: doubt must keep a process on the kill list, not drop it.
func exited(pidfd int) bool {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 0)
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}

func closeProcs(ps []proc) {
	for _, p := range ps {
		unix.Close(p.fd)
	}
}

// anyAlive reports whether any of ps is still running.
func anyAlive(ps []proc) bool {
	for _, p := range ps {
		if !exited(p.fd) {
			return true
		}
	}
	return false
}

// openIf opens a pidfd for pid and keeps it only if still(pid) holds after
// the pidfd was opened and the process is alive afterwards. ok is false if
// the process is gone or fails the check.
func openIf(pid int, still func(pid int) (bool, error)) (p proc, ok bool, err error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err == unix.ESRCH {
		return proc{}, false, nil
	}
	if err != nil {
		return proc{}, false, os.NewSyscallError("pidfd_open", err)
	}
	match, err := still(pid)
	if err != nil || !match || exited(fd) {
		unix.Close(fd)
		if err != nil && !gone(err) {
			return proc{}, false, err
		}
		return proc{}, false, nil
	}
	return proc{pid: pid, fd: fd}, true, nil
}

// openInit opens the recorded build init process if it still runs with the
// recorded start time; a pid whose start time differs was recycled and
// belongs to someone else.
func openInit(pid int, start uint64) (proc, bool, error) {
	if pid <= 0 || start == 0 {
		return proc{}, false, nil
	}
	if pid == os.Getpid() {
		return proc{}, false, errSelfHolder
	}
	return openIf(pid, func(pid int) (bool, error) {
		_, s, err := pidStat(pid)
		return err == nil && s == start, err
	})
}

// initAlive reports whether the recorded init process still runs. Unreadable
// state counts as alive, so doubt leaves a slot to be cleared.
func initAlive(pid int, start uint64) bool {
	state, s, err := pidStat(pid)
	if err != nil {
		return !gone(err)
	}
	return s == start && state != 'Z' && state != 'X'
}

// Clearing a slot must never kill the process doing it; a record or range
// that would is a misconfiguration, and the slot is quarantined instead.
var (
	errSelfInRange = errors.New("this process has an id in the slot's range")
	errSelfHolder  = errors.New("the recorded init is this process")
	errSelfCgroup  = errors.New("the recorded cgroup contains this process")
)

// sigkill sends SIGKILL through a pidfd; a process that already exited is
// not an error.
func sigkill(p proc) error {
	err := unix.PidfdSendSignal(p.fd, unix.SIGKILL, nil, 0)
	if err != nil && err != unix.ESRCH {
		return os.NewSyscallError("pidfd_send_signal", err)
	}
	return nil
}

// waitExit waits by polling the pidfds until every process in ps has exited
// or the deadline passes, and returns those still running. The pidfds of
// exited processes are closed.
func waitExit(ps []proc, deadline time.Time) ([]proc, error) {
	fds := make([]unix.PollFd, 0, len(ps))
	for len(ps) > 0 {
		fds = fds[:0]
		for _, p := range ps {
			fds = append(fds, unix.PollFd{Fd: int32(p.fd), Events: unix.POLLIN})
		}
		n, err := unix.Poll(fds, pollTimeout(deadline))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return ps, os.NewSyscallError("poll", err)
		}
		alive := ps[:0]
		for i, p := range ps {
			if fds[i].Revents != 0 {
				unix.Close(p.fd)
				continue
			}
			alive = append(alive, p)
		}
		ps = alive
		if n == 0 && !time.Now().Before(deadline) {
			break
		}
	}
	return ps, nil
}

// pollTimeout converts a deadline into poll(2)'s milliseconds, rounding up
// so a poll never returns just before the deadline.
func pollTimeout(deadline time.Time) int {
	d := time.Until(deadline)
	if d <= 0 {
		return 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return int(min(ms, math.MaxInt32))
}

// pidStartTime reads pid's start time for a Record.
func pidStartTime(pid int) (uint64, error) {
	_, start, err := pidStat(pid)
	return start, err
}
