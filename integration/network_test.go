//go:build integration

package integration

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// A systemd-cgroup build with the network feature reaches a TCP listener
// on the host side through its route out, and its network namespace is
// still its own: not the host's, and one it may make bridges in, as
// containers inside it need.
func TestNetworkWithSystemdCgroup(t *testing.T) {
	hostNS, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	addr, port, got := hostListener(t)
	script := fmt.Sprintf(`test "$(readlink /proc/self/ns/net)" != %q && echo own-netns
ip link add br0 type bridge && echo bridge-made
timeout 20 bash -c 'exec 3<>/dev/tcp/%s/%d; echo hello from $SDBUILD_BUILD_ID >&3; head -n1 <&3'`, hostNS, addr, port)
	args := append([]string{"run", "--feature", "network", "-i", "/usr", "-i", "/bin", "-i", "/lib", "-i", "/lib64",
		"-e", "PATH=/usr/sbin:/usr/bin"}, nestedFeatures...)
	r := sdbuild(t, nil, append(args, "--", "/bin/sh", "-c", script)...)
	if r.code != 0 {
		t.Fatalf("network with systemd-cgroup: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	line := heard(t, got, r.stdout)
	for _, want := range []string{"own-netns\n", "bridge-made\n", "host got " + line + "\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("build output %q lacks %q", r.stdout, want)
		}
	}
}

// The same for a user's own daemon: slirp4netns, started as the user,
// joins init's user namespace (where the user is root) to reach the
// builder's network namespace, never the builder's user namespace.
func TestRootlessNetworkWithSystemdCgroup(t *testing.T) {
	rootless(t)
	// slirp4netns opens /dev/net/tun as the user, whatever the build.
	if st, err := os.Stat("/dev/net/tun"); err != nil || st.Mode().Perm()&0o006 != 0o006 {
		t.Skipf("/dev/net/tun is not open to every user here (%v, %v): slirp4netns, run by a user's daemon, cannot open it; udev makes it 0666 on a usual Debian", st.Mode(), err)
	}
	addr, port, got := hostListener(t)
	r := rlUser.sdbuild(t, runArgs([]string{"--feature", "network", "--feature", "uid-range", "--feature", "systemd-cgroup"},
		fmt.Sprintf(`ip link add br0 type bridge && echo bridge-made
timeout 20 bash -c 'exec 3<>/dev/tcp/%s/%d; echo hello from $SDBUILD_BUILD_ID >&3; head -n1 <&3'`, addr, port))...)
	if r.code != 0 {
		t.Fatalf("rootless network with systemd-cgroup: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	line := heard(t, got, r.stdout)
	for _, want := range []string{"bridge-made\n", "host got " + line + "\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("build output %q lacks %q", r.stdout, want)
		}
	}
}

// hostListener listens on the host side for one line from a build, which
// it answers with "host got LINE" and sends on got.
func hostListener(t *testing.T) (addr string, port int, got <-chan string) {
	t.Helper()
	addr = hostIPv4(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatalf("listen on the host side: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			ch <- err.Error()
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		fmt.Fprintf(c, "host got %s", line)
		ch <- strings.TrimSpace(line)
	}()
	return addr, ln.Addr().(*net.TCPAddr).Port, ch
}

// heard is the line the host side got from a build that has ended.
func heard(t *testing.T, got <-chan string, output string) string {
	t.Helper()
	select {
	case line := <-got:
		if !strings.HasPrefix(line, "hello from ") {
			t.Errorf("the host side read %q, want a hello from the build", line)
		}
		return line
	case <-time.After(10 * time.Second):
		t.Fatalf("the host side got nothing; build output %q", output)
	}
	return ""
}

// hostIPv4 is an IPv4 address of one of the host's interfaces other than
// loopback: the build's route out (slirp4netns, --disable-host-loopback)
// cannot reach the host's loopback, by design.
func hostIPv4(t *testing.T) string {
	t.Helper()
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ip, ok := a.(*net.IPNet); ok && !ip.IP.IsLoopback() && ip.IP.To4() != nil {
			return ip.IP.String()
		}
	}
	t.Skip("needs an IPv4 address on an interface other than loopback: a build's route out cannot reach the host's loopback")
	return ""
}
