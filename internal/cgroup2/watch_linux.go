package cgroup2

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Watch follows whether a cgroup holds processes, through its
// cgroup.events file, which polls POLLPRI when "populated" changes.
type Watch struct {
	dir    string
	events *os.File
}

// WatchDir opens the cgroup at dir for watching. A cgroup that does not
// exist returns nil and no error: there is nothing to wait for. The open
// file keeps working after the cgroup is removed.
func WatchDir(dir string) (*Watch, error) {
	f, err := os.Open(filepath.Join(dir, "cgroup.events"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("watch cgroup %s: %w", dir, err)
	}
	return &Watch{dir: dir, events: f}, nil
}

// Dir is the watched cgroup's directory.
func (w *Watch) Dir() string { return w.dir }

// Close stops watching.
func (w *Watch) Close() { w.events.Close() }

// Populated reads the cgroup's populated flag. A cgroup removed meanwhile
// (reads fail with ENODEV) was empty: only empty cgroups can be removed.
func (w *Watch) Populated() (bool, error) {
	b := make([]byte, 256)
	n, err := unix.Pread(int(w.events.Fd()), b, 0)
	if err == unix.ENODEV || err == unix.ENOENT {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s/cgroup.events: %w", w.dir, os.NewSyscallError("pread", err))
	}
	return ParsePopulated(b[:n])
}

// WaitEmpty waits until the cgroup holds no process or the deadline
// passes, and reports whether it is empty. Exited processes leave the
// cgroup before they become zombies, so zombies count as gone.
func (w *Watch) WaitEmpty(deadline time.Time) (bool, error) {
	fds := []unix.PollFd{{Fd: int32(w.events.Fd()), Events: unix.POLLPRI}}
	for {
		pop, err := w.Populated()
		if err != nil || !pop {
			return !pop, err
		}
		if !time.Now().Before(deadline) {
			return false, nil
		}
		ms := int((time.Until(deadline) + time.Millisecond - 1) / time.Millisecond)
		if _, err := unix.Poll(fds, max(ms, 0)); err != nil && err != unix.EINTR {
			return false, fmt.Errorf("wait for cgroup %s: %w", w.dir, os.NewSyscallError("poll", err))
		}
	}
}
