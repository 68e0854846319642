package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// The "go" step can carry one fd: the cgroup directory the builder is
// created in (systemd-cgroup builds). It is sent with sendmsg and read
// with recvmsg, outside the JSON stream; that is safe because the parent
// sends nothing between the spec and "go" but waits for "ready", so init's
// decoder holds no bytes read ahead when "go" arrives.

// sendWithFD sends m and, if fd is not nil, the fd alongside.
func (c *conn) sendWithFD(m message, fd *os.File) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	var oob []byte
	if fd != nil {
		oob = unix.UnixRights(int(fd.Fd()))
	}
	rc, err := c.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("send %s: %w", m.Step, err)
	}
	var serr error
	werr := rc.Write(func(s uintptr) bool {
		serr = unix.Sendmsg(int(s), b, oob, nil, 0)
		return !errors.Is(serr, unix.EAGAIN)
	})
	if werr != nil {
		return fmt.Errorf("send %s: %w", m.Step, werr)
	}
	if serr != nil {
		return fmt.Errorf("send %s: %w", m.Step, serr)
	}
	return nil
}

// recvWithFD reads one message, and the fd sent with it if any, straight
// from the socket. init's end is blocking.
func (c *conn) recvWithFD(want string) (message, *os.File, error) {
	// The decoder keeps the newline after the previous message; anything
	// more would be a message read ahead.
	if rest, _ := io.ReadAll(c.dec.Buffered()); len(bytes.TrimSpace(rest)) != 0 {
		return message{}, nil, fmt.Errorf("wait for %s: protocol error: data after the previous step", want)
	}
	// A stream socket keeps no message boundaries: read until a whole
	// line has come (the previous message's newline may come first), and
	// keep the fd from whichever read carried it.
	var line []byte
	var fd *os.File
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	for !bytes.Contains(bytes.TrimLeft(line, " \t\r\n"), []byte("\n")) {
		if len(line) > 64<<10 {
			closeFile(fd)
			return message{}, nil, fmt.Errorf("wait for %s: message too long", want)
		}
		n, oobn, _, _, err := unix.Recvmsg(int(c.f.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != nil {
			closeFile(fd)
			return message{}, nil, fmt.Errorf("wait for %s: %w", want, err)
		}
		if n == 0 {
			closeFile(fd)
			return message{}, nil, fmt.Errorf("wait for %s: %w", want, os.ErrClosed)
		}
		line = append(line, buf[:n]...)
		if oobn > 0 && fd == nil {
			fd, err = parseRights(oob[:oobn])
			if err != nil {
				return message{}, nil, fmt.Errorf("wait for %s: %w", want, err)
			}
		}
	}
	var m message
	if err := json.Unmarshal(bytes.TrimSpace(line), &m); err != nil {
		closeFile(fd)
		return message{}, nil, fmt.Errorf("wait for %s: %w", want, err)
	}
	if m.Step != want {
		closeFile(fd)
		return message{}, nil, fmt.Errorf("wait for %s: got %q", want, m.Step)
	}
	return m, fd, nil
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
				fd = os.NewFile(uintptr(f), "sdbuild-builder-cgroup")
			} else {
				unix.Close(f)
			}
		}
	}
	return fd, nil
}

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}
