package sandbox

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// loopbackUp brings up lo in init's (new, empty) network namespace. Being
// the only interface, it is all the build can reach unless the network
// feature adds a route out.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: get flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: set up: %w", err)
	}
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
	err = ctl.sendWithFD(message{Step: stepNetNS}, ns)
	ns.Close()
	if err != nil {
		return fmt.Errorf("route out: %w", err)
	}
	m, err := ctl.recv(stepNetReady, noDeadline)
	switch {
	case err != nil:
		return fmt.Errorf("route out: %w", err)
	case m.Error != "":
		return errors.New(m.Error)
	}
	return nil
}
