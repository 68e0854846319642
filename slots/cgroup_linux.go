package slots

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

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

// cgroupWatch follows a killed cgroup until it is empty.
type cgroupWatch struct {
	dir    string
	events *os.File // cgroup.events: polls POLLPRI when "populated" changes
}

// killCgroup writes 1 to the cgroup's cgroup.kill, which SIGKILLs every
// process in it and its descendants and, unlike a walk over cgroup.procs,
// cannot be outrun by fork. It returns nil without error if there is no
// cgroup2 mount or the cgroup is already gone.
func killCgroup(rel string) (*cgroupWatch, error) {
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
	// Open the events file first: a cgroup that does not exist any more
	// needs nothing, and the open file keeps working for the wait below.
	events, err := os.Open(dir + "/cgroup.events")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kill cgroup %s: %w", dir, err)
	}
	if err := os.WriteFile(dir+"/cgroup.kill", []byte("1"), 0); err != nil {
		events.Close()
		if errors.Is(err, os.ErrNotExist) && !exists(dir) {
			return nil, nil
		}
		return nil, fmt.Errorf("kill cgroup %s: %w", dir, err)
	}
	return &cgroupWatch{dir: dir, events: events}, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (w *cgroupWatch) close() { w.events.Close() }

// populated reads the cgroup's populated flag. A cgroup removed meanwhile
// (reads fail with ENODEV) was empty: only empty cgroups can be removed.
func (w *cgroupWatch) populated() (bool, error) {
	b := make([]byte, 256)
	n, err := unix.Pread(int(w.events.Fd()), b, 0)
	if err == unix.ENODEV || err == unix.ENOENT {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s/cgroup.events: %w", w.dir, os.NewSyscallError("pread", err))
	}
	return parsePopulated(b[:n])
}

// waitEmpty waits until the cgroup holds no process or the deadline passes.
// Exited processes leave the cgroup before they become zombies, so zombies
// count as gone here too.
func (w *cgroupWatch) waitEmpty(deadline time.Time) (bool, error) {
	fds := []unix.PollFd{{Fd: int32(w.events.Fd()), Events: unix.POLLPRI}}
	for {
		pop, err := w.populated()
		if err != nil || !pop {
			return !pop, err
		}
		if !time.Now().Before(deadline) {
			return false, nil
		}
		if _, err := unix.Poll(fds, pollTimeout(deadline)); err != nil && err != unix.EINTR {
			return false, fmt.Errorf("wait for cgroup %s: %w", w.dir, os.NewSyscallError("poll", err))
		}
	}
}

// members opens pidfds for the processes still in the cgroup, so a later
// retry can tell cheaply whether they are gone. A pid is kept only if it is
// still listed after its pidfd was opened.
func (w *cgroupWatch) members() []proc {
	listed := func() map[int]bool {
		b, err := os.ReadFile(w.dir + "/cgroup.procs")
		if err != nil {
			return nil
		}
		m := map[int]bool{}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				m[pid] = true
			}
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
