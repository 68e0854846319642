package cgroup2

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The functions below act on a cgroup given by its directory (…Dir), for
// callers that hold one outside the hierarchy's usual mount (the testbed's
// own cgroup tree), or by its path relative to the hierarchy's root.

// KillDir SIGKILLs every process in the cgroup at dir and its descendants
// in one write to cgroup.kill (Linux ≥ 5.14), which, unlike a walk over
// cgroup.procs, cannot be outrun by fork. A cgroup that is gone is an
// error wrapping os.ErrNotExist.
func KillDir(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0); err != nil {
		return fmt.Errorf("kill cgroup %s: %w", dir, err)
	}
	return nil
}

// ProcsDir lists the processes in the cgroup at dir (not its descendants).
func ProcsDir(dir string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, fmt.Errorf("list cgroup %s: %w", dir, err)
	}
	return ParseProcs(b), nil
}

// ParseProcs reads a cgroup.procs file: one pid per line.
func ParseProcs(b []byte) []int {
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// MoveDir puts process pid into the cgroup at dir. (The kernel waits for
// an RCU grace period to move it, unless cgroup2 is mounted with
// favordynmods.)
func MoveDir(dir string, pid int) error {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		return fmt.Errorf("move process %d to cgroup %s: %w", pid, dir, err)
	}
	return nil
}

// EnableControllersDir makes every controller the cgroup at dir has
// available to its children (cgroup.subtree_control).
func EnableControllersDir(dir string) error {
	have, err := ControllersDir(dir)
	if err != nil {
		return err
	}
	var enable []string
	for _, c := range have {
		enable = append(enable, "+"+c)
	}
	if len(enable) == 0 {
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(strings.Join(enable, " ")), 0); err != nil {
		return fmt.Errorf("enable %s in cgroup %s: %w", enable, dir, err)
	}
	return nil
}

// Stats is what a cgroup measured. cpu.stat exists on every cgroup2
// cgroup; memory.peak, pids.peak and io.stat only where the
// hierarchy has those controllers (not on a cgroup-v1 hybrid host).
type Stats struct {
	CPUUsec, MemoryPeak, TasksPeak uint64
	// IOReadBytes and IOWriteBytes sum io.stat over every device.
	IOReadBytes, IOWriteBytes uint64
}

// ReadStats reads cgroup rel's measurements; what it cannot read stays 0.
func ReadStats(rel string) Stats {
	dir, err := Dir(rel)
	if err != nil || rel == "" {
		return Stats{}
	}
	return readStatsDir(dir)
}

func readStatsDir(dir string) Stats {
	var s Stats
	if b, err := os.ReadFile(filepath.Join(dir, "cpu.stat")); err == nil {
		s.CPUUsec = parseCPUStat(b)
	}
	s.MemoryPeak = readUint(filepath.Join(dir, "memory.peak"))
	s.TasksPeak = readUint(filepath.Join(dir, "pids.peak"))
	if b, err := os.ReadFile(filepath.Join(dir, "io.stat")); err == nil {
		s.IOReadBytes, s.IOWriteBytes = ParseIOStat(b)
	}
	return s
}

// ReadCPUUsec reads only cgroup rel's CPU time (cpu.stat's usage_usec),
// 0 when it cannot.
func ReadCPUUsec(rel string) uint64 {
	dir, err := Dir(rel)
	if err != nil || rel == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(dir, "cpu.stat"))
	if err != nil {
		return 0
	}
	return parseCPUStat(b)
}

// parseCPUStat reads usage_usec from a cpu.stat file.
func parseCPUStat(b []byte) uint64 {
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "usage_usec "); ok {
			n, _ := strconv.ParseUint(v, 10, 64)
			return n
		}
	}
	return 0
}

func readUint(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return v
}

// ParsePopulated reads the populated key of a cgroup.events file.
func ParsePopulated(b []byte) (bool, error) {
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "populated "); ok {
			switch v {
			case "0":
				return false, nil
			case "1":
				return true, nil
			}
			return false, fmt.Errorf("parse cgroup.events: populated %q", v)
		}
	}
	return false, fmt.Errorf("parse cgroup.events: no populated key")
}

// ControllersDir lists the controllers the cgroup at dir has
// (cgroup.controllers): those its parent enabled for it.
func ControllersDir(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Errorf("controllers of cgroup %s: %w", dir, err)
	}
	return strings.Fields(string(b)), nil
}

// HasKill reports whether the cgroup at dir has cgroup.kill (Linux ≥
// 5.14; the kernel never gives the root cgroup one).
func HasKill(dir string) error {
	_, err := os.Stat(filepath.Join(dir, "cgroup.kill"))
	return err
}
