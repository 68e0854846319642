package daemon

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// stats is what a build's cgroup measured. cpu.stat exists on every
// cgroup2 cgroup; memory.peak and pids.peak only where the host's cgroup2
// has those controllers (not on a cgroup-v1 hybrid host).
type stats struct {
	cpuUsec, memoryPeak, tasksPeak uint64
}

var (
	cgroup2Once sync.Once
	cgroup2Root string
)

// cgroupRoot is the cgroup2 mount point: /sys/fs/cgroup, or
// /sys/fs/cgroup/unified on a hybrid host.
func cgroupRoot() string {
	cgroup2Once.Do(func() {
		b, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			pre, post, ok := strings.Cut(sc.Text(), " - ")
			if !ok || !strings.HasPrefix(post, "cgroup2 ") {
				continue
			}
			if f := strings.Fields(pre); len(f) >= 5 {
				cgroup2Root = f[4]
				return
			}
		}
	})
	return cgroup2Root
}

// readStats reads a cgroup's measurements; what it cannot read stays 0.
func readStats(cgroup string) stats {
	root := cgroupRoot()
	if root == "" || cgroup == "" {
		return stats{}
	}
	dir := filepath.Join(root, cgroup)
	var s stats
	if b, err := os.ReadFile(filepath.Join(dir, "cpu.stat")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
				s.cpuUsec, _ = strconv.ParseUint(v, 10, 64)
			}
		}
	}
	s.memoryPeak = readUint(filepath.Join(dir, "memory.peak"))
	s.tasksPeak = readUint(filepath.Join(dir, "pids.peak"))
	return s
}

func readUint(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return v
}

// killCgroup SIGKILLs every process in a cgroup through cgroup.kill.
func killCgroup(cgroup string) error {
	root := cgroupRoot()
	if root == "" || cgroup == "" {
		return os.ErrNotExist
	}
	return os.WriteFile(filepath.Join(root, cgroup, "cgroup.kill"), []byte("1"), 0)
}
