package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/sandbox"
)

// An entered command runs under util-linux nsenter, which joins the
// builder's user, mount, ipc, uts, network and cgroup namespaces and execs
// it (a Go process cannot join a user namespace: the runtime is
// multi-threaded). It is born in the build's pid namespace (startLocked).
//
// nsenter does not start as root. Between joining the builder's user
// namespace and its setuid, a root nsenter is a process of host uid 0 in
// the build's pid namespace that the kernel leaves dumpable (the builder's
// user namespace is owned by host uid 0): a uid-range build, root in that
// namespace and so holding CAP_SYS_PTRACE over it, could attach to it and,
// as host uid 0, write the build's /proc/sys (kernel.core_pattern runs as
// host root). So nsenter starts as the host ids the entered identity maps
// to, holding only the capabilities that joining needs in the host's user
// namespace, as ambient capabilities: while it holds them its credentials
// are in the host's user namespace, over which the build has no
// capability to attach with, and joining the builder's user namespace,
// which it does not own, drops them and makes it non-dumpable until it
// execs the command. (Sysctl writes are checked against host uid 0, not
// a capability: a capability-less host uid 0 writes kernel.core_pattern.)
var enterCaps = []uintptr{
	unix.CAP_SYS_ADMIN,  // setns into every namespace
	unix.CAP_SYS_CHROOT, // setns into a mount namespace
	unix.CAP_SYS_PTRACE, // open /proc/<builder>/ns/* and /proc/<builder>/root: the builder is in another user namespace
	unix.CAP_SETGID,     // nsenter drops supplementary groups before joining: a single-id build denies setgroups
}

// enterPATH is the entered command's PATH, inside the build's root.
const enterPATH = "PATH=/usr/bin:/bin:/usr/sbin:/sbin"

// enterDrain bounds the wait for an entered command's last output once it
// and everything it started are dead.
const enterDrain = 5 * time.Second

func (d *Daemon) handleEnter(w http.ResponseWriter, r *http.Request) {
	p := peerFrom(r)
	if p == nil || !p.trusted {
		name := "unknown"
		if p != nil {
			name = p.name
		}
		// An entered command can change a build's outputs behind its back
		// (Nix keeps such power to trusted-users too): only those who may
		// already see and cancel every build may.
		writeError(w, fmt.Errorf("user %s may not enter builds: only root and trusted-users may (trusted-users = %s): %w",
			name, strings.Join(d.cfg.TrustedUsers, " "), ErrForbidden))
		return
	}
	if d.cfg.Rootless != nil {
		// nsenter would need capabilities in the host's user namespace
		// (see enterCaps), which a user's daemon does not have.
		writeError(w, fmt.Errorf("%w: sdbuild enter needs the system daemon (root); your own daemon cannot join a build's namespaces", errBadInput))
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), api.EnterProtocol) {
		writeError(w, fmt.Errorf("%w: enter switches the connection to %s: send Connection: Upgrade and Upgrade: %s", errBadInput, api.EnterProtocol, api.EnterProtocol))
		return
	}
	var er api.EnterRequest
	body := http.MaxBytesReader(w, r.Body, api.MaxRequestBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&er); err != nil {
		writeError(w, fmt.Errorf("%w: request body: %w", errBadInput, err))
		return
	}
	// Whatever follows the JSON in the body would otherwise be read as
	// the first frame once the connection is hijacked.
	io.Copy(io.Discard, body)
	term, err := enterTerm(er.Env)
	if err != nil {
		writeError(w, fmt.Errorf("%w: %w", errBadInput, err))
		return
	}
	b, j, err := d.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if j == nil || b.Status != api.StatusRunning {
		writeError(w, fmt.Errorf("%w: build %s is %s, not running: only a running build can be entered", errBadInput, b.ID, b.Status))
		return
	}
	s, err := d.startEnter(b.ID, &er, term)
	if err != nil {
		writeError(w, err)
		return
	}
	d.log.Info("entered build", "id", b.ID, "user", p.name, "uid", p.uid, "args", s.args, "tty", er.TTY, "pid", s.cmd.Process.Pid)
	hj, ok := w.(http.Hijacker)
	if !ok {
		s.finish()
		writeError(w, errors.New("enter: the connection cannot be taken over"))
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		s.finish()
		writeError(w, fmt.Errorf("enter: take over the connection: %w", err))
		return
	}
	defer conn.Close()
	// The server's header deadline must not end the session.
	conn.SetDeadline(time.Time{})
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\n\r\n", api.EnterProtocol)
	if err := brw.Flush(); err != nil {
		s.finish()
		return
	}
	code, err := s.relay(conn, brw.Reader)
	if err != nil {
		d.log.Warn("enter session", "id", b.ID, "err", err)
	}
	d.log.Info("left build", "id", b.ID, "user", p.name, "status", code)
}

// enterTerm checks the client's environment, of which only TERM passes.
func enterTerm(env []string) (string, error) {
	term := ""
	for _, e := range env {
		v, ok := strings.CutPrefix(e, "TERM=")
		if !ok {
			return "", fmt.Errorf("env %q: only TERM may be passed to an entered command", e)
		}
		if len(v) > 64 || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r > '~' }) {
			return "", fmt.Errorf("env TERM=%q: not a terminal type", v)
		}
		term = v
	}
	return term, nil
}

// enterEnv is the entered command's whole environment.
func enterEnv(id, term string) []string {
	env := []string{enterPATH, "HOME=/homeless-shelter", "SDBUILD_BUILD_ID=" + id}
	if term != "" {
		env = append(env, "TERM="+term)
	}
	return env
}

// nsenterArgs joins the namespaces of builder but its pid namespace (see
// startLocked), takes the identity the build runs as inside them, and
// starts in the build's /build, which nsenter opens through the builder's
// root before it joins (util-linux 2.38 opens a --wd path as given, in the
// mount namespace it starts in).
func nsenterArgs(builder int, id identity, args []string) []string {
	t := strconv.Itoa(builder)
	return append([]string{
		"--target", t, "--user", "--mount", "--ipc", "--uts", "--net", "--cgroup",
		"--setuid", strconv.FormatUint(uint64(id.uid), 10), "--setgid", strconv.FormatUint(uint64(id.gid), 10),
		"--wd=/proc/" + t + "/root" + sandbox.BuildDir, "--",
	}, args...)
}
