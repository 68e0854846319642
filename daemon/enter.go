package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/enter"
)

// handleEnter is the HTTP side of sdbuild enter: who may, the request,
// the running build, and the connection taken over; package enter runs
// the session.
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
		// nsenter would need capabilities in the host's user namespace,
		// which a user's daemon does not have.
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
	term, err := enter.Term(er.Env)
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
	// The cgroup the scope was given when the build was placed, not one
	// rebuilt from the unit's name: a change of slice or naming must not
	// send the session elsewhere.
	init, cgroup, err := d.runningInit(b.ID)
	if err != nil {
		writeError(w, fmt.Errorf("%w: build %s is not running (yet or any more)", errBadInput, b.ID))
		return
	}
	s, err := enter.Start(enter.Target{ID: b.ID, Init: init, Cgroup: cgroup},
		enter.Options{Args: er.Args, TTY: er.TTY, Rows: er.Rows, Cols: er.Cols, Term: term})
	if err != nil {
		writeError(w, err)
		return
	}
	d.log.Info("entered build", "id", b.ID, "user", p.name, "uid", p.uid, "args", s.Args(), "tty", er.TTY, "pid", s.PID())
	hj, ok := w.(http.Hijacker)
	if !ok {
		s.Finish()
		writeError(w, errors.New("enter: the connection cannot be taken over"))
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		s.Finish()
		writeError(w, fmt.Errorf("enter: take over the connection: %w", err))
		return
	}
	defer conn.Close()
	// The server's header deadline must not end the session.
	conn.SetDeadline(time.Time{})
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\n\r\n", api.EnterProtocol)
	if err := brw.Flush(); err != nil {
		s.Finish()
		return
	}
	code, err := s.Relay(conn, brw.Reader)
	if err != nil {
		d.log.Warn("enter session", "id", b.ID, "err", err)
	}
	d.log.Info("left build", "id", b.ID, "user", p.name, "status", code)
}
