package slots

import (
	"errors"
	"fmt"
	"os"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// cgroup2Root finds where the cgroup2 hierarchy is mounted; ok is false
// when there is none.
func cgroup2Root() (string, bool, error) {
	r, err := cgroup2.Root()
	if errors.Is(err, cgroup2.ErrNoCgroup2) {
		return "", false, nil
	}
	return r, err == nil, err
}

// killCgroup opens the cgroup rel for watching and then kills everything
// in it (cgroup2.KillDir), so the watch can tell when it is empty. It
// returns nil without error if there is no cgroup2 mount or the cgroup is
// already gone.
func killCgroup(rel string) (*cgroup2.Watch, error) {
	root, ok, err := cgroup2Root()
	if err != nil || !ok {
		return nil, err
	}
	own, err := cgroup2.Own("self")
	if err != nil {
		return nil, fmt.Errorf("kill cgroup %s: %w", rel, err)
	}
	if cgroup2.Within(own, rel) {
		return nil, fmt.Errorf("kill cgroup %s: %w", rel, errSelfCgroup)
	}
	dir := root + rel
	// Watch first: a cgroup that does not exist any more needs nothing,
	// and the open events file keeps working for the wait.
	w, err := cgroup2.WatchDir(dir)
	if err != nil || w == nil {
		return nil, err
	}
	if err := cgroup2.KillDir(dir); err != nil {
		w.Close()
		if errors.Is(err, os.ErrNotExist) && !exists(dir) {
			return nil, nil
		}
		return nil, err
	}
	return w, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// cgroupMembers opens pidfds for the processes still in the watched
// cgroup, so a later retry can tell cheaply whether they are gone. A pid
// is kept only if it is still listed after its pidfd was opened.
func cgroupMembers(w *cgroup2.Watch) []proc {
	listed := func() map[int]bool {
		pids, err := cgroup2.ProcsDir(w.Dir())
		if err != nil {
			return nil
		}
		m := map[int]bool{}
		for _, pid := range pids {
			m[pid] = true
		}
		return m
	}
	var ps []proc
	for pid := range listed() {
		p, ok, _ := openIf(pid, func(pid int) (bool, error) { return listed()[pid], nil })
		if ok {
			ps = append(ps, p)
		}
	}
	return ps
}
