package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/api"
)

func newEnterCommand() *cobra.Command {
	var tty, noTTY bool
	cmd := &cobra.Command{
		Use:   "enter [--tty|--no-tty] ID [CMD [ARG...]]",
		Short: "Run a shell or CMD inside a running build",
		Long: `Run CMD (default /bin/sh, from the build's root) inside running build
ID's namespaces, as the build's own user (uid 1000, or root with uid-range),
in /build, for debugging a build that hangs. The command is in the build's
scope and ends with the build, or when this command ends. Only root and
trusted-users may. Exits with CMD's status.

With a tty (the default when stdin is a terminal) CMD gets a terminal of
its own and this terminal is put in raw mode; without, stdout and stderr
arrive merged on stdout.

Flags end at ID: what follows is CMD's own; "--" after ID still works.
ID may be a unique prefix of the build's id.`,
		Example: `  sudo sdbuild enter 1a2b                  # a shell in the build whose id starts 1a2b
  sudo sdbuild enter 1a2b ps -ef            # one command
  sudo sdbuild enter -T 1a2b cat /build/config.log > config.log`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeBuildIDs(api.StatusRunning),
		RunE: func(cmd *cobra.Command, args []string) error {
			if d := cmd.ArgsLenAtDash(); d > 1 {
				return errors.New("enter: one build ID before --")
			}
			argv := args[1:]
			// Flags stop at ID, so a "--" after it is still in args.
			if len(argv) > 0 && argv[0] == "--" {
				argv = argv[1:]
			}
			useTTY := isTerminal(int(os.Stdin.Fd()))
			if tty || noTTY {
				useTTY = tty
			}
			return enter(cmd, args[0], argv, useTTY)
		},
	}
	fl := cmd.Flags()
	// Flags stop at ID: what follows is CMD's own.
	fl.SetInterspersed(false)
	fl.BoolVarP(&tty, "tty", "t", false, "give the command a terminal (default when stdin is a terminal)")
	fl.BoolVarP(&noTTY, "no-tty", "T", false, "give the command pipes, not a terminal")
	cmd.MarkFlagsMutuallyExclusive("tty", "no-tty")
	return cmd
}

// enter runs argv in build id and relays this process's stdio to it.
func enter(cmd *cobra.Command, id string, argv []string, useTTY bool) error {
	c, err := client(cmd)
	if err != nil {
		return err
	}
	in := int(os.Stdin.Fd())
	req := &api.EnterRequest{Args: argv, TTY: useTTY}
	if useTTY {
		if t := os.Getenv("TERM"); t != "" {
			req.Env = []string{"TERM=" + t}
		}
		if ws, err := unix.IoctlGetWinsize(in, unix.TIOCGWINSZ); err == nil {
			req.Rows, req.Cols = ws.Row, ws.Col
		}
	}
	conn, err := c.Enter(context.Background(), id, req)
	if err != nil {
		return err
	}
	defer conn.Close()
	if useTTY && isTerminal(in) {
		restore, err := makeRaw(in)
		if err != nil {
			return fmt.Errorf("enter build %s: raw mode: %w", id, err)
		}
		defer restore()
	}
	fw := &frameWriter{w: conn}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGWINCH, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	var intr atomic.Bool
	go func() {
		for s := range sigs {
			if s == unix.SIGWINCH {
				if ws, err := unix.IoctlGetWinsize(in, unix.TIOCGWINSZ); err == nil {
					fw.write(api.FrameResize, api.ResizePayload(ws.Row, ws.Col))
				}
				continue
			}
			// The daemon kills what a vanished client left; the terminal is
			// restored on the way out.
			intr.Store(true)
			conn.Close()
		}
	}()
	go pumpStdin(fw)
	code, err := relayOutput(conn, os.Stdout)
	if err != nil {
		if intr.Load() {
			return &statusError{code: exitCancelled, msg: "enter build " + id + ": interrupted, the entered command was killed"}
		}
		return fmt.Errorf("enter build %s: %w", id, err)
	}
	switch {
	case code == 0:
		return nil
	case code > 128 && code < 128+65:
		return &statusError{code: code, msg: fmt.Sprintf("enter build %s: command killed by signal %d", id, code-128)}
	}
	return &statusError{code: code, msg: fmt.Sprintf("enter build %s: command exited with status %d", id, code)}
}

// frameWriter serializes the frames of the stdin pump and of resizes.
type frameWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (f *frameWriter) write(t api.FrameType, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return api.WriteFrame(f.w, t, p)
}

func pumpStdin(fw *frameWriter) {
	buf := make([]byte, 32<<10)
	for {
		n, err := os.Stdin.Read(buf)
		if n > 0 && fw.write(api.FrameData, buf[:n]) != nil {
			return
		}
		if err != nil {
			fw.write(api.FrameClose, nil)
			return
		}
	}
}

// relayOutput copies output frames to w until the exit frame, and returns
// the exit status it carries.
func relayOutput(r io.Reader, w io.Writer) (int, error) {
	for {
		t, p, err := api.ReadFrame(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the daemon closed the connection before the command's exit status")
			}
			return 0, err
		}
		switch t {
		case api.FrameData:
			w.Write(p)
		case api.FrameExit:
			return api.ParseExit(p)
		}
	}
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// makeRaw puts the terminal in raw mode, as cfmakeraw(3) does: the
// entered command's own pty does line editing, echo and signals.
func makeRaw(fd int) (restore func(), err error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	t := *old
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}
