package sandbox

import (
	"sync"

	"golang.org/x/sys/unix"
)

// liveInits are the inits this process started and has not reaped: pids
// no other process can have meanwhile, since an unreaped child's pid is
// not reused.
var liveInits struct {
	mu   sync.Mutex
	pids map[int]struct{}
}

// IsInit reports whether pid is a sandbox init this process started and
// has not reaped. Init runs only sdbuild's code, is not dumpable (so its
// build cannot trace it), and takes up no ids but its own slot's: the
// slot scan reads its leader alone (slots.Options.OwnCode).
func IsInit(pid int) bool {
	liveInits.mu.Lock()
	defer liveInits.mu.Unlock()
	_, ok := liveInits.pids[pid]
	return ok
}

func addInit(pid int) {
	liveInits.mu.Lock()
	defer liveInits.mu.Unlock()
	if liveInits.pids == nil {
		liveInits.pids = map[int]struct{}{}
	}
	liveInits.pids[pid] = struct{}{}
}

// waitInitExit waits for init pid to exit without reaping it, then drops
// it from liveInits; the caller reaps it after.
func waitInitExit(pid int) {
	var info unix.Siginfo
	for {
		if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != unix.EINTR {
			break
		}
	}
	liveInits.mu.Lock()
	defer liveInits.mu.Unlock()
	delete(liveInits.pids, pid)
}
