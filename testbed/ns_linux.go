package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// namespace is one of the testbed's namespaces, held open.
//
// /proc names a namespace by its inode number ("mnt:[4026532301]"), and the
// kernel hands that number to the next namespace made anywhere on the machine
// as soon as the last reference to the old one goes: a mount namespace's
// number comes back at once, on a machine where sandboxes make them all the
// time. While file is open the namespace, and so its number, stays the
// testbed's, and a process /proc shows in it really is in it.
type namespace struct {
	name string   // as the /proc/PID/ns/* link reads
	file *os.File // /proc/PID/ns/KIND, open
}

// openNamespace opens the namespace of kind ("pid", "mnt") that process pid
// is in.
func openNamespace(pid int, kind string) (namespace, error) {
	path := fmt.Sprintf("/proc/%d/ns/%s", pid, kind)
	f, err := os.Open(path)
	if err != nil {
		return namespace{}, fmt.Errorf("hold %s namespace of pid %d: %w", kind, pid, err)
	}
	// The link read through the open file's own path could name a new
	// namespace if pid had died in between; name the one held instead.
	name, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil {
		f.Close()
		return namespace{}, fmt.Errorf("hold %s namespace of pid %d: %w", kind, pid, err)
	}
	return namespace{name: name, file: f}, nil
}

// release lets the namespace go; after that its name may mean another.
func (ns *namespace) release() {
	if ns.file != nil {
		ns.file.Close()
		ns.file = nil
	}
}

// processesIn returns the pids of host processes in the namespace ns, as
// /proc/PID/ns/* names it ("pid:[4026532301]"). Only while ns is held open
// does that name mean the testbed's namespace. A process that is exiting has
// left its namespaces before it becomes a zombie, so it is not counted then.
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
