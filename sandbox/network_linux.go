package sandbox

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// The network feature keeps the build in its own network namespace (an fd
// passed over an abstract unix socket in a shared namespace broke Nix's
// fixed-output builds: CVE-2024-27297) and gives it a user-mode route out
// through slirp4netns, which needs no host interface, bridge or sysctl.
const (
	slirpBinary = "slirp4netns"
	slirpDNS    = "10.0.2.3" // slirp4netns's built-in resolver
)

// network is the host side of a build's route out.
type network struct {
	cmd  *exec.Cmd
	exit *os.File // closing it tells slirp4netns to exit
}

// startNetwork attaches slirp4netns to the network namespace of pid and
// returns once the tap device is configured.
func startNetwork(pid int) (*network, error) {
	bin, err := exec.LookPath(slirpBinary)
	if err != nil {
		return nil, fmt.Errorf("feature network needs %s (apt-get install slirp4netns): %w", slirpBinary, err)
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
	cmd := exec.Command(bin, "--configure", "--mtu=65520", "--disable-host-loopback",
		"--enable-sandbox", "--enable-seccomp",
		"--ready-fd=3", "--exit-fd=4", strconv.Itoa(pid), "tap0")
	cmd.ExtraFiles = []*os.File{readyW, exitR}
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
		return nil, fmt.Errorf("%s for pid %d: %w: %s", slirpBinary, pid, err, out)
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
