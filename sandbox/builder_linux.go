package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// builderCloneflags are the namespaces the builder gets on top of init's.
// The new user namespace is what locks init's mounts; the cgroup namespace
// roots the builder's view of cgroups at its own.
const builderCloneflags = unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP

// runBuilderOnThread starts the builder and waits for it. It runs on init's
// locked thread (see limitOnThread and MaybeInit). With cgroupDir (the
// systemd-cgroup feature) the builder is created in that cgroup and starts
// as the payload stage, which makes its cgroup namespace and mounts before
// it execs the builder; with the network feature too, the route out is
// attached to the builder's network namespace (over ctl) before the
// payload stage gets its spec.
func runBuilderOnThread(s *Spec, cgroupDir *os.File, ctl *conn) (Result, error) {
	devnull, err := os.Open("/dev/null")
	if err != nil {
		return Result{}, fmt.Errorf("open /dev/null: %w", err)
	}
	defer devnull.Close()
	env := s.Environ()
	argv0, err := lookPath(s.Args[0], env)
	if err != nil {
		return execFailure(s.Args[0], err), nil
	}
	uid, gid := s.builderIdentity()
	uidm, gidm := s.idMaps()
	dir := BuildDir
	if s.Action != nil {
		dir = s.Action.WorkDir
	}
	attr := &syscall.ProcAttr{
		Dir:   dir,
		Env:   env,
		Files: []uintptr{devnull.Fd(), 1, 2}, // 1 and 2 are the build log
		Sys: &syscall.SysProcAttr{
			Cloneflags:  builderCloneflags,
			UidMappings: uidm.sys(),
			GidMappings: gidm.sys(),
			// With one mapped id, setgroups is denied so the builder can
			// never drop a group to bypass a deny ACL on an input.
			GidMappingsEnableSetgroups: s.Features.UIDRange,
			Credential:                 &syscall.Credential{Uid: uid, Gid: gid, NoSetGroups: !s.Features.UIDRange},
			Setsid:                     true, // no controlling terminal (CVE-2017-5226, TIOCSTI)
			Pdeathsig:                  syscall.SIGKILL,
		},
	}
	if s.Action != nil {
		attr.Files[2] = actionStderrFd // the builder's stderr apart from its stdout
	}
	path, args := argv0, s.Args
	var payload *conn
	if cgroupDir != nil {
		w, r, err := socketPair("sdbuild-payload", false)
		if err != nil {
			return Result{}, fmt.Errorf("payload socket: %w", err)
		}
		defer r.Close()
		payload = newConn(w)
		path, args = "/proc/self/exe", []string{payloadArg0}
		attr.Files = append(attr.Files, r.Fd())
		// A pid namespace of its own too: a systemd in the build treats PID 1
		// as its own (nspawn reads PID 1's rlimits), and init, host root in
		// an ancestor user namespace, is untouchable from the build. init
		// still sees, and at the end kills, everything nested in it.
		// And a network namespace of its own, owned by its user namespace:
		// only its owner may mount the sysfs a systemd needs, or make the
		// bridges and veths that join containers in the build. Sharing
		// init's instead would give the build neither; the network
		// feature's route out is attached to this one (stepNetNS).
		attr.Sys.Cloneflags = attr.Sys.Cloneflags&^unix.CLONE_NEWCGROUP | unix.CLONE_NEWPID | unix.CLONE_NEWNET
		attr.Sys.UseCgroupFD, attr.Sys.CgroupFD = true, int(cgroupDir.Fd())
	}
	pid, err := syscall.ForkExec(path, args, attr)
	if err == nil {
		holdMountNS(pid)
	}
	if err == nil && payload != nil && s.builderNetwork() {
		if nerr := awaitBuilderNetwork(ctl, pid); nerr != nil {
			// The payload stage reads its spec first: it has run nothing.
			payload.Close()
			unix.Kill(pid, unix.SIGKILL)
			return Result{}, nerr
		}
	}
	if payload != nil {
		if err == nil {
			err = payload.send(message{Step: stepExec, Exec: &execSpec{Path: argv0, Args: s.Args}}, nil)
		}
		payload.Close()
	}
	if err != nil {
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EUSERS) {
			if nerr := probeNamespaces(builderCloneflags); nerr != nil {
				return Result{}, nerr
			}
		}
		return execFailure(s.Args[0], err), nil
	}
	ws, ru, err := reapUntil(pid)
	if err != nil {
		return Result{}, err
	}
	switch {
	case ws.Exited():
		return Result{ExitCode: ws.ExitStatus(), Rusage: ru}, nil
	case ws.Signaled():
		return Result{ExitCode: 128 + int(ws.Signal()), Signal: int(ws.Signal()), CoreDumped: ws.CoreDump(), Rusage: ru}, nil
	}
	return Result{}, fmt.Errorf("builder %d: unexpected wait status %#x", pid, ws)
}

// holdMountNS keeps the mount namespace of the builder, init's child pid,
// open until init exits. A mount namespace is torn down when its last
// reference goes, and that waits for an RCU grace period
// (synchronize_rcu_expedited in the kernel's namespace_unlock): a tenth of
// a millisecond on an idle machine, a millisecond or more on a busy one.
// Left to the builder's exit, the wait lies between the builder's end and
// init's wait4, so on every build's result; held, it falls in init's own
// exit, which the caller waits for after the result. A builder that has
// already exited (a zombie has no namespaces) is not held, and one that
// moved on to a namespace of its own has that one held: either way only
// where the wait falls changes.
func holdMountNS(pid int) {
	unix.Open(fmt.Sprintf("/proc/%d/ns/mnt", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
}

// execFailure reports a builder that could not be started the way a shell
// does: 127 when it does not exist, 126 when it cannot be executed.
func execFailure(name string, err error) Result {
	code := 126
	if errors.Is(err, unix.ENOENT) {
		code = 127
	}
	return Result{ExitCode: code, ExecError: fmt.Sprintf("exec %s: %v", name, err)}
}

// lookPath finds name on the builder's PATH inside the sandbox.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	var dirs string
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			dirs = v
		}
	}
	for _, dir := range strings.Split(dirs, ":") {
		if dir == "" {
			continue
		}
		p := path.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("not found in PATH %q: %w", dirs, unix.ENOENT)
}

func (m idMap) sys() []syscall.SysProcIDMap {
	return []syscall.SysProcIDMap{{ContainerID: int(m.Inside), HostID: int(m.Outside), Size: int(m.Count)}}
}
