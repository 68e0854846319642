package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Steps of the conversation between the parent and init, in order.
const (
	stepSpec   = "spec"   // parent → init: the Spec
	stepReady  = "ready"  // init → parent: root built, waiting to be placed
	stepGo     = "go"     // parent → init: start the builder
	stepResult = "result" // init → parent: the builder's Result
	stepError  = "error"  // init → parent: setup failed; init exits
)

// message is one newline-delimited JSON message on the control socket.
type message struct {
	Step   string  `json:"step"`
	Spec   *Spec   `json:"spec,omitempty"`
	Result *Result `json:"result,omitempty"`
	Error  string  `json:"error,omitempty"`
}

// Result is how the builder ended.
type Result struct {
	// ExitCode is the builder's exit status, or 128+n when signal n
	// killed it (as a shell reports it).
	ExitCode int `json:"exit_code"`
	// Signal is the signal that killed the builder, 0 if it exited.
	Signal int `json:"signal,omitempty"`
	// CoreDumped is the wait status's core flag: a core went to a
	// core_pattern pipe (the build's own core limit is 0).
	CoreDumped bool `json:"core_dumped,omitempty"`
	// ExecError says why the builder could not be started at all.
	ExecError string `json:"exec_error,omitempty"`
	// Reclaimed says that init, in its own user namespace (UserNS), gave
	// the build's directories back to the caller once the build was dead,
	// so Reclaim need not run.
	Reclaimed bool `json:"reclaimed,omitempty"`
	// Rusage is what the builder and the children it waited for used
	// (wait4), unset when it could not be started.
	Rusage *Rusage `json:"rusage,omitempty"`
}

// Rusage is the part of struct rusage Linux fills in.
type Rusage struct {
	UtimeUsec, StimeUsec int64
	MaxRSSKiB            int64
	MinFlt, MajFlt       int64
	InBlock, OuBlock     int64
	NVCSw, NIVCSw        int64
}

// conn is one end of the control socket.
type conn struct {
	f   *os.File
	enc *json.Encoder
	dec *json.Decoder
}

func newConn(f *os.File) *conn {
	return &conn{f: f, enc: json.NewEncoder(f), dec: json.NewDecoder(io.LimitReader(f, 64<<20))}
}

func (c *conn) send(m message) error {
	if err := c.enc.Encode(m); err != nil {
		return fmt.Errorf("send %s: %w", m.Step, err)
	}
	return nil
}

// recv reads the next message and checks it is the step expected. A
// zero deadline waits as long as it takes: the deadline is set on every
// call, since one left over from an earlier step would otherwise cut a
// later wait short (a build that ran longer than ReadyTimeout lost its
// result that way, and then waited for an init that waited for it).
func (c *conn) recv(want string, deadline time.Time) (message, error) {
	if err := c.f.SetReadDeadline(deadline); err != nil && !errors.Is(err, os.ErrNoDeadline) {
		return message{}, fmt.Errorf("wait for %s: %w", want, err)
	}
	var m message
	if err := c.dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return m, fmt.Errorf("wait for %s: %w", want, io.ErrUnexpectedEOF)
		}
		return m, fmt.Errorf("wait for %s: %w", want, err)
	}
	if m.Step == stepError {
		return m, fmt.Errorf("%w: %s", ErrSetup, m.Error)
	}
	if m.Step != want {
		return m, fmt.Errorf("wait for %s: got %q", want, m.Step)
	}
	return m, nil
}

func (c *conn) Close() error { return c.f.Close() }
