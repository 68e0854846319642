package sandbox

import (
	"errors"
	"fmt"
	"os"
)

// A systemd-cgroup build's builder has a network namespace of its own,
// owned by its own user namespace: only a network namespace's owner may
// mount the sysfs that a systemd in the build needs, and only its owner
// may make the bridges and veths that containers in the build are joined
// by. The route out must reach that namespace, not init's. It is made
// before the builder runs, in two steps between "go" and "result"
// (stepNetNS, stepNetReady).

// builderNetwork says that the route out goes to the builder's own network
// namespace (see stepNetNS) rather than to init's.
func (s *Spec) builderNetwork() bool { return s.Features.Network && s.Features.SystemdCgroup }

// recvResult waits for init's result. For a builder with a network
// namespace of its own and the network feature, init first sends that
// namespace, and the route out is attached to it here; init sends the
// result instead when the builder could not be started at all.
func (p *Process) recvResult() (message, error) {
	if !p.spec.builderNetwork() {
		m, fd, err := p.ctl.recv(stepResult, noDeadline)
		closeFile(fd)
		return m, err
	}
	m, netns, err := p.ctl.recv(stepNetNS, noDeadline, stepResult)
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
	if err := p.ctl.send(reply, nil); err != nil {
		return message{}, err
	}
	m, fd, err := p.ctl.recv(stepResult, noDeadline)
	closeFile(fd)
	return m, err
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

// awaitBuilderNetwork sends the parent the network namespace of the
// builder (pid, held in the payload stage) and waits until the parent has
// attached the route out to it. The parent answers, or closes the socket
// when it gives up, or dies and takes init with it (parent-death signal):
// the wait ends either way.
func awaitBuilderNetwork(ctl *conn, pid int) error {
	// init has capabilities over the builder's user namespace, a child of
	// its own, so it may open the builder's namespaces whatever its
	// dumpable flag.
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return fmt.Errorf("route out: open the builder's network namespace: %w", err)
	}
	err = ctl.send(message{Step: stepNetNS}, ns)
	ns.Close()
	if err != nil {
		return fmt.Errorf("route out: %w", err)
	}
	m, fd, err := ctl.recv(stepNetReady, noDeadline)
	closeFile(fd)
	switch {
	case err != nil:
		return fmt.Errorf("route out: %w", err)
	case m.Error != "":
		return errors.New(m.Error)
	}
	return nil
}
