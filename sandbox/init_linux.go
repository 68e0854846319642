package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// initMain is init: it receives the spec, builds the root, waits to be
// released, runs the builder and reports how it ended.
func initMain() int {
	// The parent-death signal set at clone does not survive an exec that
	// raises capabilities, which the mapped stage's exec into init does
	// (see mappedMain): set it again. Had the parent died already, the
	// spec below never comes.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild init: set parent-death signal: %v\n", err)
		return 1
	}
	// The builder may share init's uid (a user's daemon without
	// subordinate ids) and so signal it; as PID 1 of the build, init gets
	// only the signals it handles. Handled, not ignored: the builder must
	// not inherit ignored signals.
	signal.Notify(make(chan os.Signal, 1), unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	// Until the spec says otherwise, every fd beyond the control socket and
	// 0-2 is close-on-exec (CVE-2024-21626: a leaked fd is a way out).
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild init: close_range: %v\n", err)
		return 1
	}
	ctl := newConn(os.NewFile(3, "sdbuild-control"))
	m, _, err := ctl.recv(stepSpec, noDeadline)
	if err == nil && m.Spec == nil {
		err = fmt.Errorf("wait for %s: message without a spec", stepSpec)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild init: %v\n", err)
		return 1
	}
	spec := m.Spec
	var awaitRequest func() (*Spec, error)
	if m.Prepared {
		// Prepared ahead of demand: say ready once the common part of the
		// root is built, then wait, as long as it takes, for the build's
		// own part. The parent sends it, or closes the socket, or dies and
		// takes init with it (parent-death signal).
		awaitRequest = func() (*Spec, error) {
			// Until a build takes it, nothing of a build runs here: a
			// stop of its scope (SIGTERM) ends it at once rather than
			// after systemd's stop timeout. (Set before "ready", after
			// which the parent may place it and anyone stop it.)
			stop := exitOnTerm()
			if err := ctl.send(message{Step: stepReady}, nil); err != nil {
				stop()
				return nil, err
			}
			m, fd, err := ctl.recv(stepRequest, noDeadline)
			stop()
			closeFile(fd)
			switch {
			case err != nil:
			case m.Spec == nil:
				err = fmt.Errorf("wait for %s: message without a spec", stepRequest)
			default:
				if err = m.Spec.checkFills(spec); err != nil {
					err = fmt.Errorf("%s: %w", stepRequest, err)
				}
			}
			return m.Spec, err
		}
	}
	if err := setupOnThread(spec, awaitRequest); err != nil {
		ctl.send(message{Step: stepError, Error: err.Error()}, nil)
		return 1
	}
	if err := ctl.send(message{Step: stepReady}, nil); err != nil {
		return 1
	}
	_, cgroupDir, err := ctl.recv(stepGo, noDeadline)
	if err != nil {
		// The parent went away or gave up: nothing may run.
		fmt.Fprintf(os.Stderr, "sdbuild init: %v\n", err)
		return 1
	}
	if spec.Features.SystemdCgroup && cgroupDir == nil {
		ctl.send(message{Step: stepError, Error: "feature systemd-cgroup: no cgroup for the build was passed"}, nil)
		return 1
	}
	if err := chownCgroupOnThread(spec, cgroupDir); err != nil {
		ctl.send(message{Step: stepError, Error: err.Error()}, nil)
		return 1
	}
	if cgroupDir != nil {
		defer cgroupDir.Close()
	}
	res, err := runBuilderOnThread(spec, cgroupDir, ctl)
	if err != nil {
		ctl.send(message{Step: stepError, Error: err.Error()}, nil)
		return 1
	}
	if err := killAllOnThread(); err != nil {
		ctl.send(message{Step: stepError, Error: err.Error()}, nil)
		return 1
	}
	if spec.UserNS != nil {
		// Nothing of the build runs any more: hand its files, and the
		// cgroups it made, back to the caller here, where the build's ids
		// are mapped, rather than in a helper of its own (Reclaim) that
		// would have to be mapped again. The caller's systemd can then
		// remove the cgroups.
		if cgroupDir != nil {
			if err := reclaimCgroup(cgroupDir); err != nil {
				fmt.Fprintf(os.Stderr, "sdbuild init: %v\n", err)
			}
		}
		if err := reclaimBuildDirs(); err != nil {
			fmt.Fprintf(os.Stderr, "sdbuild init: %v\n", err)
		} else {
			res.Reclaimed = true
		}
	}
	// Nothing of the build runs any more: close init's own ends of the
	// build log, so that the parent reads the log to its end now rather
	// than once init exits (Result's caller may wait for init later).
	closeLogOnThread(spec)
	if err := ctl.send(message{Step: stepResult, Result: &res}, nil); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild init: %v\n", err)
		return 1
	}
	// Stay, alone in the build's cgroup, until the parent has read what
	// the cgroup measured and closes the socket (the parent sends nothing
	// more: the read ends with EOF). Returning then ends init; had anything
	// survived, the kernel would kill it with the namespace.
	ctl.awaitClose()
	return 0
}

// killAllOnThread kills every process of the build but init and reaps them.
// kill(-1) from a pid namespace's init reaches every other process in the
// namespace and in namespaces nested in it; fork fails once SIGKILL is
// pending, so nothing escapes between the kill and the reaping, which runs
// until init has no child left.
func killAllOnThread() error {
	if err := unix.Kill(-1, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill the build's processes: %w", err)
	}
	for {
		_, err := unix.Wait4(-1, nil, 0, nil)
		switch {
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.ECHILD):
			return nil
		case err != nil:
			return fmt.Errorf("reap the build's processes: %w", err)
		}
	}
}

// reapUntil reaps children (init is PID 1: orphans of the build are
// reparented to it) until pid has exited, and returns pid's status and
// resource usage.
func reapUntil(pid int) (unix.WaitStatus, *Rusage, error) {
	for {
		var ws unix.WaitStatus
		var ru unix.Rusage
		got, err := unix.Wait4(-1, &ws, 0, &ru)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, nil, fmt.Errorf("wait for builder %d: %w", pid, err)
		}
		if got == pid {
			return ws, rusageOf(&ru), nil
		}
	}
}

func rusageOf(ru *unix.Rusage) *Rusage {
	return &Rusage{
		UtimeUsec: ru.Utime.Nano() / 1000, StimeUsec: ru.Stime.Nano() / 1000, MaxRSSKiB: ru.Maxrss,
		MinFlt: ru.Minflt, MajFlt: ru.Majflt, InBlock: ru.Inblock, OuBlock: ru.Oublock,
		NVCSw: ru.Nvcsw, NIVCSw: ru.Nivcsw,
	}
}

// closeLogOnThread points init's stdout and stderr, the build log, and an
// action's stderr pipe, at /dev/null.
func closeLogOnThread(s *Spec) {
	fd, err := unix.Open("/dev/null", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return // the log then ends when init does
	}
	unix.Dup3(fd, 1, 0)
	unix.Dup3(fd, 2, 0)
	if s.Action != nil {
		unix.Dup3(fd, actionStderrFd, 0)
	}
	unix.Close(fd)
}

// exitOnTerm makes init exit on SIGTERM, SIGINT or SIGHUP until the
// returned stop is called; the signals stay handled (not ignored) after.
func exitOnTerm() (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			os.Exit(1)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}
