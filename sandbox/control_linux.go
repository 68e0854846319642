package sandbox

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// The control socket's one framing, used by every stage on every socket
// (parent and init, parent and the mapped stage, init and the payload
// stage): a message is a 4-byte big-endian length and that many bytes of
// JSON, written by one sendmsg, with at most one fd as SCM_RIGHTS on it.
//
// A reader reads the length, then exactly the body, and never past the
// message. Two things follow. The kernel hands an fd over with the first
// bytes read of the sendmsg that carried it (unix_stream_read_generic
// detaches the fds of an skb on its first read), which is this message's
// length: an fd can only arrive with its own message. And no stage holds
// bytes read ahead, so a stage can hand the socket on through exec (the
// mapped stage to init) or read on either end whether blocking or not.
const (
	frameHeader = 4
	maxMessage  = 64 << 20
)

// conn is one end of a control socket. The parent's end is non-blocking,
// so that its reads have deadlines; a stage's end is blocking.
type conn struct {
	f *os.File
}

func newConn(f *os.File) *conn { return &conn{f: f} }

// send sends m, and fd alongside when it is not nil.
func (c *conn) send(m message, fd *os.File) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("send %s: %w", m.Step, err)
	}
	b := binary.BigEndian.AppendUint32(make([]byte, 0, frameHeader+len(body)), uint32(len(body)))
	b = append(b, body...)
	var oob []byte
	if fd != nil {
		oob = unix.UnixRights(int(fd.Fd()))
	}
	if err := c.write(b, oob); err != nil {
		return fmt.Errorf("send %s: %w", m.Step, err)
	}
	return nil
}

// write writes all of b, with oob on its first part. A non-blocking end
// may take only part of a long message at a time.
func (c *conn) write(b, oob []byte) error {
	rc, err := c.f.SyscallConn()
	if err != nil {
		return err
	}
	for len(b) > 0 {
		var n int
		var serr error
		werr := rc.Write(func(s uintptr) bool {
			n, serr = unix.SendmsgN(int(s), b, oob, nil, unix.MSG_NOSIGNAL)
			return !errors.Is(serr, unix.EAGAIN)
		})
		if werr != nil {
			return werr
		}
		if errors.Is(serr, unix.EINTR) {
			continue
		}
		if serr != nil {
			return serr
		}
		b, oob = b[n:], nil
	}
	return nil
}

// recv reads the next message and the fd sent with it, if any, and checks
// that it is the step expected, or, with also, one of those. An error
// message from the other side is returned as ErrSetup. A zero deadline
// waits as long as it takes: the deadline is set on every call, since one
// left over from an earlier step would otherwise cut a later wait short (a
// build that ran longer than ReadyTimeout lost its result that way, and
// then waited for an init that waited for it). The caller closes the fd.
func (c *conn) recv(want string, deadline time.Time, also ...string) (message, *os.File, error) {
	if err := c.f.SetReadDeadline(deadline); err != nil && !errors.Is(err, os.ErrNoDeadline) {
		return message{}, nil, fmt.Errorf("wait for %s: %w", want, err)
	}
	var hdr [frameHeader]byte
	fd, err := c.readFull(hdr[:], nil)
	var body []byte
	if err == nil {
		n := binary.BigEndian.Uint32(hdr[:])
		if n > maxMessage {
			err = fmt.Errorf("message of %d bytes, more than %d", n, maxMessage)
		} else {
			body = make([]byte, n)
			_, err = c.readFull(body, fd)
		}
	}
	if err != nil {
		closeFile(fd)
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return message{}, nil, fmt.Errorf("wait for %s: %w", want, err)
	}
	var m message
	if err := decodeMessage(body, &m); err != nil {
		closeFile(fd)
		return m, nil, fmt.Errorf("wait for %s: %w", want, err)
	}
	switch {
	case m.Step == want:
	case m.Step == stepError:
		closeFile(fd)
		return m, nil, fmt.Errorf("%w: %s", ErrSetup, m.Error)
	default:
		for _, a := range also {
			if m.Step == a {
				return m, fd, nil
			}
		}
		closeFile(fd)
		return m, nil, fmt.Errorf("wait for %s: got %q", want, m.Step)
	}
	return m, fd, nil
}

// decodeMessage is json.Unmarshal, but a field m does not have is an
// error rather than dropped: the two ends may be two binaries
// (sdbuild-init beside sdbuildd), and one left from another build must
// refuse a spec with a field it does not know (a feature, say) rather than
// build without it.
func decodeMessage(body []byte, m *message) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(m); err != nil {
		return err
	}
	if len(bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n")) > 0 {
		return errors.New("data after the message")
	}
	return nil
}

// readFull fills b from the socket. The first read may carry an fd, which
// it returns; an fd on a later read is a protocol error (held, the one
// already read, is closed with it by the caller).
func (c *conn) readFull(b []byte, held *os.File) (*os.File, error) {
	rc, err := c.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var fd *os.File
	oob := make([]byte, unix.CmsgSpace(4*4))
	for len(b) > 0 {
		var n, oobn int
		var rerr error
		err := rc.Read(func(s uintptr) bool {
			n, oobn, _, _, rerr = unix.Recvmsg(int(s), b, oob, unix.MSG_CMSG_CLOEXEC)
			return !errors.Is(rerr, unix.EAGAIN)
		})
		if err == nil {
			err = rerr
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			closeFile(fd)
			return nil, err
		}
		if oobn > 0 {
			got, perr := parseRights(oob[:oobn])
			if perr == nil && got != nil && (fd != nil || held != nil) {
				got.Close()
				perr = errors.New("protocol error: more than one fd with a message")
			}
			if perr != nil {
				closeFile(fd)
				return nil, perr
			}
			fd = got
		}
		if n == 0 {
			closeFile(fd)
			return nil, io.EOF
		}
		b = b[n:]
	}
	return fd, nil
}

// parseRights returns the first fd of an SCM_RIGHTS message and closes
// any others.
func parseRights(oob []byte) (*os.File, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fd *os.File
	for _, cm := range msgs {
		fds, err := unix.ParseUnixRights(&cm)
		if err != nil {
			continue
		}
		for _, f := range fds {
			if fd == nil {
				fd = os.NewFile(uintptr(f), "sdbuild-passed-fd")
			} else {
				unix.Close(f)
			}
		}
	}
	return fd, nil
}

// socketPair returns the two ends of a new control socket: the caller's,
// non-blocking when nonblock is set, and the stage's, blocking, to be
// passed as its fd 3. Both are close-on-exec here; exec.Cmd's ExtraFiles
// and syscall.ForkExec's Files clear that in the child.
func socketPair(name string, nonblock bool) (ours, theirs *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	// Our end is a separate file description from the stage's, so its
	// non-blocking flag leaves the stage's end blocking.
	if nonblock {
		if err := unix.SetNonblock(fds[0], true); err != nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
			return nil, nil, os.NewSyscallError("set nonblock", err)
		}
	}
	return os.NewFile(uintptr(fds[0]), name), os.NewFile(uintptr(fds[1]), name), nil
}

// awaitClose waits until the other side closes the socket (or sends
// anything, which no step allows, or dies).
func (c *conn) awaitClose() {
	c.f.SetReadDeadline(noDeadline)
	var b [1]byte
	fd, _ := c.readFull(b[:], nil)
	closeFile(fd)
}

func (c *conn) Close() error { return c.f.Close() }

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}
