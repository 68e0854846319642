package daemon

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// stats is what a build's cgroup measured. cpu.stat exists on every
// cgroup2 cgroup; memory.peak and pids.peak only where the host's cgroup2
// has those controllers (not on a cgroup-v1 hybrid host).
type stats struct {
	cpuUsec, memoryPeak, tasksPeak uint64
}

// readStats reads a cgroup's measurements; what it cannot read stays 0.
func readStats(cgroup string) stats {
	dir, err := cgroup2.Dir(cgroup)
	if err != nil || cgroup == "" {
		return stats{}
	}
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
