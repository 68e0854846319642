package daemon

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
	"golang.org/x/sys/unix"
)

// identity is who an entered command is inside the build's user namespace
// and the host ids that maps to.
type identity struct {
	uid, gid         uint32
	hostUID, hostGID uint32
}

// builder is a running build's builder, as an entered command joins it.
type builder struct {
	pid   int
	id    identity
	pidns *os.File // the build's pid namespace
}

// findBuilder finds the builder of the build whose sandbox init is init,
// checks that it is the build's, and reads its identity. The builder is
// init's first child: processes the build orphans are reparented to init
// after it, and all of them share the builder's namespaces anyway.
func findBuilder(init int, scope string) (*builder, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", init, init))
	if err != nil {
		return nil, fmt.Errorf("find the builder: %w", err)
	}
	pid, ok := firstChild(string(b))
	if !ok {
		return nil, errors.New("find the builder: the build has not started it yet, or it has just exited")
	}
	// A pidfd pins the process: what is read and opened below belongs to
	// this process if it is still alive afterwards, not to a process that
	// reused its pid.
	pfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, fmt.Errorf("find the builder: pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(pfd)
	proc := func(name string) string {
		b, rerr := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
		if rerr != nil && err == nil {
			err = fmt.Errorf("builder %d: %w", pid, rerr)
		}
		return string(b)
	}
	status, cgroup, uidMap, gidMap := proc("status"), proc("cgroup"), proc("uid_map"), proc("gid_map")
	if err != nil {
		return nil, err
	}
	if ppid, ok := statusField(status, "PPid"); !ok || ppid != strconv.Itoa(init) {
		return nil, fmt.Errorf("builder %d: parent is %s, not the build's init %d", pid, ppid, init)
	}
	if cg, err := cgroup2.ParseOwn(strings.NewReader(cgroup)); err != nil || !cgroup2.Within(cg, scope) {
		return nil, fmt.Errorf("builder %d: in cgroup %q, not in the build's %s", pid, cg, scope)
	}
	bl := &builder{pid: pid}
	if bl.id.uid, bl.id.hostUID, err = entryID(uidMap); err != nil {
		return nil, fmt.Errorf("builder %d: uid_map: %w", pid, err)
	}
	if bl.id.gid, bl.id.hostGID, err = entryID(gidMap); err != nil {
		return nil, fmt.Errorf("builder %d: gid_map: %w", pid, err)
	}
	if bl.pidns, err = os.Open(fmt.Sprintf("/proc/%d/ns/pid", pid)); err != nil {
		return nil, fmt.Errorf("builder %d: %w", pid, err)
	}
	if err := unix.PidfdSendSignal(pfd, 0, nil, 0); err != nil {
		bl.pidns.Close()
		return nil, fmt.Errorf("builder %d: exited while being looked at: %w", pid, err)
	}
	return bl, nil
}

// firstChild is the first pid of a /proc/<pid>/task/<tid>/children file.
func firstChild(s string) (int, bool) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// statusField is the value of one field of /proc/<pid>/status.
func statusField(status, key string) (string, bool) {
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// entryID picks from a uid_map or gid_map (as the host reads it) the id an
// entered command takes, and the host id it maps to: root where the build
// maps it (uid-range builds), else the build's one id (1000 or 100). That
// is the builder's own identity either way, so the entered command can do
// what the build can and nothing more.
func entryID(idMap string) (inside, outside uint32, err error) {
	found := false
	for _, line := range strings.Split(strings.TrimSpace(idMap), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			return 0, 0, fmt.Errorf("line %q: want 3 fields", line)
		}
		var v [3]uint64
		for i, s := range f {
			if v[i], err = strconv.ParseUint(s, 10, 32); err != nil {
				return 0, 0, fmt.Errorf("line %q: %w", line, err)
			}
		}
		if v[2] == 0 {
			return 0, 0, fmt.Errorf("line %q: empty range", line)
		}
		if !found || v[0] == 0 {
			inside, outside, found = uint32(v[0]), uint32(v[1]), true
		}
	}
	if !found {
		return 0, 0, errors.New("no id mapped")
	}
	return inside, outside, nil
}
