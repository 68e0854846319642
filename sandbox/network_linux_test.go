package sandbox

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// Without the network feature the build reaches nothing but itself.
func TestNoNetwork(t *testing.T) {
	addr := hostAddress(t)
	s := newSpec(t, helperPath+" connect "+addr+":22")
	withHelper(t, s)
	if got := strings.TrimSpace(mustRun(t, s)); got != "ENETUNREACH" {
		t.Errorf("connect to host %s = %q, want ENETUNREACH", addr, got)
	}
}

// With it, the build still has its own network namespace, with a tap
// device and a default route out, and a resolver configured.
func TestNetworkFeature(t *testing.T) {
	testutil.RequireBinary(t, slirpBinary, "slirp4netns")
	s := newSpec(t, `tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\n' ' '; echo; grep -q '^tap0[[:space:]]00000000' /proc/net/route && echo default-route-tap0; cat /etc/resolv.conf; test "$(readlink /proc/self/ns/net)" != "$HOSTNS" && echo own-netns`)
	host, err := readlinkNS("net")
	if err != nil {
		t.Fatal(err)
	}
	s.Env = []string{"HOSTNS=" + host}
	s.Features.Network = true
	got := mustRun(t, s)
	for _, want := range []string{"lo tap0", "default-route-tap0", "nameserver " + slirpDNS, "own-netns"} {
		if !strings.Contains(got, want) {
			t.Errorf("network build output %q lacks %q", got, want)
		}
	}
}

// hostAddress is an address of one of the host's interfaces other than
// loopback, or 192.0.2.1 (TEST-NET) when it has none.
func hostAddress(t *testing.T) string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ip, ok := a.(*net.IPNet); ok && !ip.IP.IsLoopback() && ip.IP.To4() != nil {
			return ip.IP.String()
		}
	}
	return "192.0.2.1"
}

// With systemd-cgroup the builder has a network namespace of its own (not
// init's): the route out is attached there, and the builder starts only
// once it is.
func TestNetworkWithSystemdCgroup(t *testing.T) {
	testutil.RequireBinary(t, slirpBinary, "slirp4netns")
	_, leaf := delegatedCgroup(t)
	s := newSpec(t, `tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\n' ' '; echo; grep -q '^tap0[[:space:]]00000000' /proc/net/route && echo default-route-tap0; cat /etc/resolv.conf; test "$(readlink /proc/self/ns/net)" != "$HOSTNS" && echo own-netns`)
	host, err := readlinkNS("net")
	if err != nil {
		t.Fatal(err)
	}
	s.Env = []string{"HOSTNS=" + host}
	s.Features = Features{UIDRange: true, SystemdCgroup: true, Network: true}
	r := runInCgroup(t, s, leaf)
	if r.err != nil || r.res.ExitCode != 0 {
		t.Fatalf("build: %v %+v\n%s", r.err, r.res, r.log)
	}
	for _, want := range []string{"lo tap0 \n", "default-route-tap0", "nameserver " + slirpDNS, "own-netns"} {
		if !strings.Contains(r.log, want) {
			t.Errorf("network build output %q lacks %q", r.log, want)
		}
	}
}

// When the route out cannot be attached to the builder's network
// namespace, the builder never runs and the build fails with the reason,
// as a setup error, instead of running without the network it asked for.
func TestNetworkWithSystemdCgroupFails(t *testing.T) {
	_, leaf := delegatedCgroup(t)
	s := newSpec(t, `echo the-builder-ran`)
	s.Features = Features{UIDRange: true, SystemdCgroup: true, Network: true}
	t.Setenv("PATH", t.TempDir()) // no slirp4netns on it
	r := runInCgroup(t, s, leaf)
	if !errors.Is(r.err, ErrSetup) || !strings.Contains(r.err.Error(), "route out: feature network needs slirp4netns") {
		t.Errorf("build without slirp4netns: err %v, want %v naming slirp4netns", r.err, ErrSetup)
	}
	if strings.Contains(r.log, "the-builder-ran") {
		t.Errorf("the builder ran without its route out: %q", r.log)
	}
}
