package testbed

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// console is the pseudo-terminal that is /dev/console inside a testbed.
type console struct {
	master *os.File
	// slave stays open in Boot's process for the testbed's life: systemd
	// opens and closes /dev/console per message, and once no slave is open
	// a read on the master fails with EIO and the copy would end early.
	slave *os.File
	path  string        // /dev/pts/N, valid in the host's mount namespace
	done  chan struct{} // closed when the copy to Log has ended
}

func openConsole() (*console, error) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open console: %w", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, fmt.Errorf("unlock console pseudo-terminal: %w", os.NewSyscallError("ioctl TIOCSPTLCK", err))
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, fmt.Errorf("name console pseudo-terminal: %w", os.NewSyscallError("ioctl TIOCGPTN", err))
	}
	path := fmt.Sprintf("/dev/pts/%d", n)
	slave, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, fmt.Errorf("open console: %w", err)
	}
	return &console{master: master, slave: slave, path: path, done: make(chan struct{})}, nil
}

// copyTo copies the console to w, without carriage returns (the terminal
// turns every "\n" into "\r\n"), until the last slave descriptor is closed.
func (c *console) copyTo(w io.Writer) {
	defer close(c.done)
	buf := make([]byte, 32*1024)
	for {
		n, err := c.master.Read(buf)
		if n > 0 {
			// A failing Log must not stall systemd on a full terminal
			// buffer, so write errors are dropped and reading goes on.
			_, _ = w.Write(bytes.ReplaceAll(buf[:n], []byte("\r"), nil))
		}
		if err != nil {
			return
		}
	}
}

// close ends the copy after everything written so far is read: closing the
// last slave makes the master's next read after the buffered data fail.
func (c *console) close() error {
	err := c.slave.Close()
	<-c.done
	if cerr := c.master.Close(); err == nil {
		err = cerr
	}
	return err
}
