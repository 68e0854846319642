package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// The network feature keeps the build in its own network namespace (an fd
// passed over an abstract unix socket in a shared namespace broke Nix's
// fixed-output builds: CVE-2024-27297) and gives it a user-mode route out
// through slirp4netns, which needs no host interface, bridge or sysctl.
const slirpBinary = "slirp4netns"

// network is the host side of a build's route out.
type network struct {
	cmd  *exec.Cmd
	exit *os.File // closing it tells slirp4netns to exit
}

// startNetwork attaches slirp4netns to the network namespace of pid (init)
// and returns once the tap device is configured. slirp4netns joins pid's
// user namespace first: init's own for a caller without root, where the
// caller is root.
func startNetwork(pid int) (*network, error) {
	return runSlirp("pid "+strconv.Itoa(pid), nil, nil, strconv.Itoa(pid))
}

// startNetworkIn attaches slirp4netns to the network namespace netns (the
// builder's, in a systemd-cgroup build) and returns once the tap device is
// configured. With userns (init's user namespace, for a caller without
// root) it starts in it, as root there, which gives it the capabilities
// over netns that setns needs. It never joins the builder's user
// namespace: there the build's root could signal or ptrace it, and through
// it act as the caller in the host's network namespace.
func startNetworkIn(netns, userns *os.File) (*network, error) {
	// ExtraFiles start at fd 3; runSlirp passes its two pipes first.
	files := []*os.File{netns}
	var wrap []string
	if userns != nil {
		// slirp4netns's own --userns-path is not enough: for a namespace
		// given by path it does not join the user namespace again before
		// its sandbox, which then fails (setegid). nsenter joins it and
		// becomes root there, which is what slirp4netns expects.
		files = append(files, userns)
		wrap = []string{"--user=/proc/self/fd/6", "--"}
	}
	return runSlirp("the builder's network namespace", wrap, files, "--netns-type=path", "/proc/self/fd/5")
}

// runSlirp starts slirp4netns with target (the arguments that name the
// network namespace, then tap0) and files from fd 5 on, and waits, at most
// ReadyTimeout, until the tap device is configured. With nsenterArgs it
// starts slirp4netns through nsenter with those arguments.
func runSlirp(what string, nsenterArgs []string, files []*os.File, target ...string) (*network, error) {
	bin, err := exec.LookPath(slirpBinary)
	if err != nil {
		return nil, fmt.Errorf("feature network needs %s (apt-get install slirp4netns): %w", slirpBinary, err)
	}
	argv := append([]string{"--configure", "--mtu=65520", "--disable-host-loopback",
		"--enable-sandbox", "--enable-seccomp", "--ready-fd=3", "--exit-fd=4"}, target...)
	argv = append(argv, "tap0")
	if nsenterArgs != nil {
		nsenter, err := exec.LookPath("nsenter")
		if err != nil {
			return nil, fmt.Errorf("feature network with %s needs nsenter (apt-get install util-linux): %w", FeatureSystemdCgroup, err)
		}
		argv = append(append(append([]string(nil), nsenterArgs...), bin), argv...)
		bin = nsenter
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer readyR.Close()
	exitR, exitW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return nil, err
	}
	cmd := exec.Command(bin, argv...)
	cmd.ExtraFiles = append([]*os.File{readyW, exitR}, files...)
	out := &limitedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Start()
	readyW.Close()
	exitR.Close()
	if err != nil {
		exitW.Close()
		return nil, fmt.Errorf("start %s: %w", slirpBinary, err)
	}
	ready := make(chan error, 1)
	go func() {
		b := make([]byte, 1)
		_, err := readyR.Read(b)
		ready <- err
	}()
	select {
	case err = <-ready:
	case <-time.After(ReadyTimeout):
		err = fmt.Errorf("not ready after %s", ReadyTimeout)
	}
	n := &network{cmd: cmd, exit: exitW}
	if err != nil {
		n.stop()
		return nil, fmt.Errorf("%s for %s: %w: %s", slirpBinary, what, err, out)
	}
	return n, nil
}

// stop ends slirp4netns and reaps it.
func (n *network) stop() {
	n.exit.Close()
	done := make(chan struct{})
	go func() { n.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		n.cmd.Process.Kill()
		<-done
	}
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	max int
	b   []byte
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }

var _ io.Writer = (*limitedBuffer)(nil)

// A systemd-cgroup build's builder has a network namespace of its own,
// owned by its own user namespace: only a network namespace's owner may
// mount the sysfs that a systemd in the build needs, and only its owner
// may make the bridges and veths that containers in the build are joined
// by. The route out must reach that namespace, not init's. It is made
// before the builder runs, in two steps between "go" and "result":
const (
	stepNetNS    = "netns"     // init → parent: the builder's network namespace, as an fd
	stepNetReady = "net-ready" // parent → init: the route out is there, or Error says why not
)

// builderNetwork says that the route out goes to the builder's own network
// namespace (see stepNetNS) rather than to init's.
func (s *Spec) builderNetwork() bool { return s.Features.Network && s.Features.SystemdCgroup }

// recvResult waits for init's result. For a builder with a network
// namespace of its own and the network feature, init first sends that
// namespace, and the route out is attached to it here; init sends the
// result instead when the builder could not be started at all.
func (p *Process) recvResult() (message, error) {
	if !p.spec.builderNetwork() {
		return p.ctl.recv(stepResult, noDeadline)
	}
	m, netns, err := p.ctl.recvFDNonblock(stepNetNS)
	if err != nil || m.Step != stepNetNS {
		closeFile(netns)
		return m, err
	}
	reply := message{Step: stepNetReady}
	if err := p.attachNetwork(netns); err != nil {
		// init reports it as its setup error, which Result returns.
		reply.Error = err.Error()
	}
	netns.Close()
	if err := p.ctl.send(reply); err != nil {
		return message{}, fmt.Errorf("send %s: %w", stepNetReady, err)
	}
	return p.ctl.recv(stepResult, noDeadline)
}

// attachNetwork starts slirp4netns in netns, joining init's user namespace
// first when init has one of its own.
func (p *Process) attachNetwork(netns *os.File) error {
	if netns == nil {
		return fmt.Errorf("route out: init sent no network namespace")
	}
	var userns *os.File
	if p.spec.UserNS != nil {
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", p.pid))
		if err != nil {
			return fmt.Errorf("route out: open init's user namespace: %w", err)
		}
		defer f.Close()
		userns = f
	}
	n, err := startNetworkIn(netns, userns)
	if err != nil {
		return fmt.Errorf("route out: %w", err)
	}
	p.net = n
	return nil
}

// recvFDNonblock reads, on the parent's non-blocking end and without a
// deadline, the next message (which must be want, a result or an error) and
// the fd sent with it. It reads straight from the socket, past the
// decoder: that is safe because init sends nothing between "ready" and
// want, so the decoder holds no bytes read ahead, and nothing after want
// until it is answered, so no read here takes more than that one message.
// (recvWithFD is init's: it takes the fd with Fd, which would make this end
// blocking and void its deadlines.)
func (c *conn) recvFDNonblock(want string) (message, *os.File, error) {
	if rest, _ := io.ReadAll(c.dec.Buffered()); len(bytes.TrimSpace(rest)) != 0 {
		return message{}, nil, fmt.Errorf("wait for %s: protocol error: data after the previous step", want)
	}
	if err := c.f.SetReadDeadline(noDeadline); err != nil {
		return message{}, nil, fmt.Errorf("wait for %s: %w", want, err)
	}
	rc, err := c.f.SyscallConn()
	if err != nil {
		return message{}, nil, fmt.Errorf("wait for %s: %w", want, err)
	}
	var line []byte
	var fd *os.File
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	for !bytes.Contains(bytes.TrimLeft(line, " \t\r\n"), []byte("\n")) {
		if len(line) > 64<<10 {
			closeFile(fd)
			return message{}, nil, fmt.Errorf("wait for %s: message too long", want)
		}
		var n, oobn int
		var rerr error
		err := rc.Read(func(s uintptr) bool {
			n, oobn, _, _, rerr = unix.Recvmsg(int(s), buf, oob, unix.MSG_CMSG_CLOEXEC)
			return !errors.Is(rerr, unix.EAGAIN)
		})
		if err == nil {
			err = rerr
		}
		if err != nil {
			closeFile(fd)
			return message{}, nil, fmt.Errorf("wait for %s: %w", want, err)
		}
		if n == 0 {
			closeFile(fd)
			return message{}, nil, fmt.Errorf("wait for %s: %w", want, io.ErrUnexpectedEOF)
		}
		line = append(line, buf[:n]...)
		if oobn > 0 && fd == nil {
			if fd, err = parseRights(oob[:oobn]); err != nil {
				return message{}, nil, fmt.Errorf("wait for %s: %w", want, err)
			}
		}
	}
	var m message
	if err := json.Unmarshal(bytes.TrimSpace(line), &m); err != nil {
		closeFile(fd)
		return message{}, nil, fmt.Errorf("wait for %s: %w", want, err)
	}
	switch m.Step {
	case want, stepResult:
	case stepError:
		closeFile(fd)
		return m, nil, fmt.Errorf("%w: %s", ErrSetup, m.Error)
	default:
		closeFile(fd)
		return m, nil, fmt.Errorf("wait for %s: got %q", want, m.Step)
	}
	return m, fd, nil
}
