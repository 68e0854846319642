package enter

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
	"golang.org/x/sys/unix"
)

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
