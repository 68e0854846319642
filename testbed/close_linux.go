package testbed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Close kills systemd, which takes every process of the testbed's pid
// namespace with it, waits for it, and removes the testbed's cgroups deepest
// first. It returns an ErrLeftover error if a process is still in the
// testbed's pid or mount namespace or a cgroup could not be removed. Later
// calls return the first call's result.
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
	for _, ns := range []string{tb.pidNS, tb.mntNS} {
		if ns == "" {
			continue
		}
		if pids := processesIn(ns); len(pids) > 0 {
			errs = append(errs, fmt.Errorf("processes %v still in %s: %w", pids, ns, ErrLeftover))
		}
	}
	if tb.Cgroup != "" {
		if err := removeCgroup(tb.Cgroup); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// processesIn returns the pids of host processes in the namespace ns, as
// /proc/PID/ns/* names it ("pid:[4026532301]").
func processesIn(ns string) []int {
	kind, _, _ := strings.Cut(ns, ":")
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// An error means the process is gone meanwhile.
		link, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns", kind))
		if err == nil && link == ns {
			pids = append(pids, pid)
		}
	}
	return pids
}
