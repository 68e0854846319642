package enter

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// killLeaf kills every process in the session's cgroup rel.
func killLeaf(rel string) {
	if err := cgroup2.Kill(rel); err != nil {
		// Without cgroup.kill (Linux < 5.14): a few rounds over
		// cgroup.procs. A session that forks faster than that outlives
		// its client, but not its build, whose scope is killed whole.
		killProcs(rel)
	}
}

// killProcs SIGKILLs what cgroup rel lists, over a few rounds, for
// kernels without cgroup.kill.
func killProcs(rel string) {
	dir, err := cgroup2.Dir(rel)
	if err != nil {
		return
	}
	for range 10 {
		pids, err := cgroup2.ProcsDir(dir)
		if err != nil || len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			unix.Kill(pid, unix.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
