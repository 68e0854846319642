package api

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// PathEnter runs a command in a running build's namespaces (POST): the
// request body is an EnterRequest; a daemon that accepts answers
// 101 Switching Protocols (Upgrade: EnterProtocol) and the connection then
// carries frames, below. A refusal is an ordinary JSON Error.
const PathEnter = "/v1/builds/{id}/enter"

// EnterProtocol names the framed byte stream an enter request switches to.
const EnterProtocol = "sdbuild-enter/1"

// EnterRequest says what to run in the build and how.
type EnterRequest struct {
	Args []string `json:"args,omitempty"` // default /bin/sh, looked up in the build's root
	TTY  bool     `json:"tty,omitempty"`  // a pty of its own; without, pipes with stdout and stderr merged
	Env  []string `json:"env,omitempty"`  // only TERM=… is accepted
	Rows uint16   `json:"rows,omitempty"` // the pty's initial size; 0 for 24x80
	Cols uint16   `json:"cols,omitempty"`
}

// After the switch both sides send frames: one byte of FrameType, the
// payload's length as a big-endian uint32, then the payload.
//
//	client -> daemon: FrameData (stdin), FrameClose (end of stdin), FrameResize
//	daemon -> client: FrameData (stdout and stderr, or the pty's output),
//	                  then exactly one FrameExit, after which it closes
//
// Framing, rather than raw bytes with a half-close, is what lets the exit
// status follow the output on the same connection, and resizes travel
// beside keystrokes.
type FrameType byte

const (
	FrameData   FrameType = 'd' // bytes of input or output
	FrameClose  FrameType = 'c' // no more input (ignored with a pty: end of input there is ^D)
	FrameResize FrameType = 'w' // uint16 rows, uint16 cols (big-endian)
	FrameExit   FrameType = 'x' // int32 exit status (big-endian): 0-255, 128+n for signal n
)

// MaxFrame bounds a frame's payload.
const MaxFrame = 1 << 20

const frameHeader = 5

// ErrFrameTooLarge is returned for a frame whose payload exceeds MaxFrame.
var ErrFrameTooLarge = errors.New("frame larger than 1 MiB")

// WriteFrame writes one frame in a single Write, so that writers sharing a
// connection under a lock never interleave.
func WriteFrame(w io.Writer, t FrameType, p []byte) error {
	if len(p) > MaxFrame {
		return fmt.Errorf("write frame %c: %w", t, ErrFrameTooLarge)
	}
	b := make([]byte, frameHeader+len(p))
	b[0] = byte(t)
	binary.BigEndian.PutUint32(b[1:], uint32(len(p)))
	copy(b[frameHeader:], p)
	_, err := w.Write(b)
	return err
}

// ReadFrame reads one frame. It returns io.EOF only when the stream ends
// between frames.
func ReadFrame(r io.Reader) (FrameType, []byte, error) {
	var h [frameHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, fmt.Errorf("read frame header: %w", err)
		}
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(h[1:])
	if n > MaxFrame {
		return 0, nil, fmt.Errorf("read frame %c of %d bytes: %w", h[0], n, ErrFrameTooLarge)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, fmt.Errorf("read frame %c: %w", h[0], noEOF(err))
	}
	return FrameType(h[0]), p, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ResizePayload is a FrameResize's payload.
func ResizePayload(rows, cols uint16) []byte {
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, rows), cols)
}

// ParseResize reads a FrameResize's payload.
func ParseResize(p []byte) (rows, cols uint16, err error) {
	if len(p) != 4 {
		return 0, 0, fmt.Errorf("resize frame of %d bytes, want 4", len(p))
	}
	return binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]), nil
}

// ExitPayload is a FrameExit's payload.
func ExitPayload(code int) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(int32(code)))
}

// ParseExit reads a FrameExit's payload.
func ParseExit(p []byte) (int, error) {
	if len(p) != 4 {
		return 0, fmt.Errorf("exit frame of %d bytes, want 4", len(p))
	}
	return int(int32(binary.BigEndian.Uint32(p))), nil
}

// Enter starts r in running build id and returns the switched connection,
// which carries frames from then on.
func (c *Client) Enter(ctx context.Context, id string, r *EnterRequest) (io.ReadWriteCloser, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	path := buildPath(PathEnter, id)
	req := &request{method: "POST", path: path, body: body,
		header: []string{"Connection: Upgrade", "Content-Type: application/json", "Upgrade: " + EnterProtocol}}
	resp, err := c.roundTrip(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.unreachable(err)
	}
	c.sawVersion(resp)
	if resp.StatusCode == statusSwitchingProtocols {
		// roundTrip hands over the connection itself as the body of a 101.
		return resp.Body.(io.ReadWriteCloser), nil
	}
	defer resp.Body.Close()
	var e Error
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e); err != nil || e.Message == "" {
		return nil, fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	return nil, &e
}
