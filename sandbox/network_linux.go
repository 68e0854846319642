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
