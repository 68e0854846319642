//go:build integration

package integration

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
)

// multiScript is a build that boots two containers, a and b, each with its
// own systemd, from trees it makes itself in /build: an /etc of each
// container's own (hostname, machine id, os-release, units) and the host's
// /usr, bound read-only; nothing is downloaded. They
// are joined by a bridge in the build's network namespace. a serves a
// socket-activated echo on 10.42.0.1:7777; b connects to it, writes what
// it got to /res (the build's /build/res, bound into both), and powers
// off; a powers off once b is done. Every wait inside is bounded, so a
// broken step ends the build with a message rather than hanging it.
// The builder's last line carries the time it was printed, which the test
// compares with the time the client returned.
const multiScript = `set -u
R=/build/res
mkdir -p $R
tree() { # tree NAME ADDRESS UNITS...: an OS tree of its own, not the host's /
  d=/build/$1
  mkdir -p $d/usr $d/etc/systemd/system $d/etc/mm $d/root $d/var $d/tmp
  # In the tree, not nspawn's --bind-ro: nspawn reads the tree's systemd
  # version before it binds anything, and without one it sets up cgroup v1.
  mount --rbind /usr $d/usr || exit 1
  for l in bin sbin lib lib64; do ln -s usr/$l $d/$l; done
  cp /usr/lib/os-release $d/etc/os-release
  echo $1 > $d/etc/hostname
  echo $1 | md5sum | cut -c1-32 > $d/etc/machine-id
  echo 'root:x:0:0:root:/root:/bin/sh' > $d/etc/passwd
  echo 'root:x:0:' > $d/etc/group
  printf '[Unit]\nDescription=sdbuild multi-machine test\nRequires=basic.target\nAfter=basic.target\nAllowIsolate=yes\nWants=%s\n' "$3" > $d/etc/systemd/system/mm.target
  ln -s mm.target $d/etc/systemd/system/default.target
  # host0 as nspawn hands it over; what ip said goes to /res for a failed run.
  printf 'i=0; until ip link show host0 >/dev/null 2>&1 || [ $i -ge 100 ]; do sleep 0.1; i=$((i+1)); done\n{ ip -o link; ip link set host0 up && ip addr add %s/24 dev host0; } >/res/$(cat /etc/hostname)-net.log 2>&1\n' $2 > $d/etc/mm/net.sh
  printf '[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh /etc/mm/net.sh\n' > $d/etc/systemd/system/mm-net.service
}
tree a 10.42.0.1 "mm-net.service echo.socket mm-ready.service mm-wait.service"
tree b 10.42.0.2 "mm-net.service mm-client.service"
U=/build/a/etc/systemd/system
printf '[Socket]\nListenStream=7777\nAccept=yes\n' > $U/echo.socket
printf '[Service]\nExecStart=/bin/sh /etc/mm/echo.sh\nStandardInput=socket\n' > $U/echo@.service
echo 'read -r line; echo "echo from $(cat /etc/hostname), pid 1 $(cat /proc/1/comm): $line"' > /build/a/etc/mm/echo.sh
printf '[Unit]\nRequires=mm-net.service echo.socket\nAfter=mm-net.service echo.socket\n[Service]\nType=oneshot\nExecStart=/bin/sh -c "date +%%%%s.%%%%N > /res/a-up"\n' > $U/mm-ready.service
printf '[Unit]\nAfter=mm-ready.service\n[Service]\nExecStart=/bin/sh /etc/mm/wait.sh\n' > $U/mm-wait.service
cat > /build/a/etc/mm/wait.sh <<'S'
i=0; while [ ! -e /res/b-done ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done
systemctl --no-block poweroff
S
U=/build/b/etc/systemd/system
printf '[Unit]\nRequires=mm-net.service\nAfter=mm-net.service\n[Service]\nType=oneshot\nExecStart=/bin/sh /etc/mm/client.sh\nExecStopPost=/bin/sh /etc/mm/done.sh\n' > $U/mm-client.service
cat > /build/b/etc/mm/done.sh <<'S'
touch /res/b-done
# nspawn exits with the status a container's systemd exits with.
if [ "$SERVICE_RESULT" = success ]; then systemctl --no-block poweroff; else systemctl --no-block exit 3; fi
S
cat > /build/b/etc/mm/client.sh <<'S'
date +%s.%N > /res/b-up
i=0; until [ -e /res/a-up ]; do i=$((i+1)); [ $i -le 600 ] || { echo "a never came up" > /res/b-result; exit 1; }; sleep 0.1; done
i=0; until r=$(timeout 5 bash -c 'exec 3<>/dev/tcp/10.42.0.1/7777; echo ping from b, pid 1 $(cat /proc/1/comm) >&3; head -n1 <&3') && [ -n "$r" ]; do
  i=$((i+1)); [ $i -le 20 ] || { echo "no answer from a" > /res/b-result; exit 1; }; sleep 0.5
done
echo "$r" > /res/b-result
S
ip link add br0 type bridge && ip link set br0 up || exit 1
boot() { # boot NAME: start a container, recording when
  date +%s.%N > $R/$1-start
  # A cgroup of its own: with --keep-unit nspawn makes its supervisor and
  # payload cgroups below its own, so two started from one cgroup share
  # them, and one container's systemd then manages the other's processes
  # (one of the two now and then never got to its units).
  read -r me _ < /proc/self/stat # this subshell's pid ($$ is the script's)
  mkdir /sys/fs/cgroup/mm-$1 && echo $me > /sys/fs/cgroup/mm-$1/cgroup.procs || exit 1
  exec timeout -k 10 90 systemd-nspawn -D /build/$1 -M $1 --register=no --keep-unit --console=pipe -q \
    --network-bridge=br0 --bind=$R:/res --boot systemd.show_status=1 > $R/$1.console 2>&1
}
boot a & A=$!
boot b & B=$!
wait $B; rb=$?
wait $A; ra=$?
echo "nspawn a exit $ra, b exit $rb"
echo "b got: $(cat $R/b-result 2>/dev/null)"
status=0
[ $ra -eq 0 ] && [ $rb -eq 0 ] && cp $R/b-result $out/ || status=1
for c in a b; do
  echo "boot $c: started $(cat $R/$c-start), up $(cat $R/$c-up 2>/dev/null)"
  [ $status -eq 0 ] || { echo "== $c's network setup:"; cat $R/$c-net.log 2>/dev/null; echo "== $c's console, failures then its end:"; grep -iE 'fail|error' $R/$c.console | head -n 20; tail -n 20 $R/$c.console; }
done
echo "builder done at $(date +%s.%N)"
exit $status`

// The multi-machine case: two containers with their own systemd, from a
// tree that is not the host's /, talk over a bridge in the build's network
// namespace, both power off, the build succeeds with its output, the
// client returns promptly after the builder's last line, and nothing of
// it is left on the host or in the scope.
func TestMultiMachine(t *testing.T) {
	requireNspawn(t)
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"run", "--json", "--timeout", "100s", "-o", out, "-i", "/usr", "-i", "/bin", "-i", "/lib", "-i", "/lib64",
		"-e", "PATH=/usr/sbin:/usr/bin"}, nestedFeatures...)
	r := sdbuild(t, nil, append(args, "--", "/bin/sh", "-c", multiScript)...)
	returned := time.Now()
	t.Logf("build log:\n%s", r.stderr)
	var b api.Build
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil {
		t.Fatalf("run --json: %v: %q", err, r.stdout)
	}
	if r.code != 0 || b.Status != api.StatusSucceeded {
		t.Fatalf("multi-machine build: exit %d, status %s, error %q", r.code, b.Status, b.Error)
	}
	// Each container has its own systemd as PID 1, its own /etc (the
	// hostname) and reached the other over the bridge.
	const want = "echo from a, pid 1 systemd: ping from b, pid 1 systemd"
	for _, line := range []string{"nspawn a exit 0, b exit 0", "b got: " + want} {
		if !strings.Contains(r.stderr, line+"\n") {
			t.Errorf("build log lacks %q", line)
		}
	}
	if got, err := os.ReadFile(filepath.Join(out, "b-result")); err != nil || string(got) != want+"\n" {
		t.Errorf("output b-result = %q, %v; want %q", got, err, want+"\n")
	}

	// Each container's boot: nspawn's start to its first unit of the
	// test (a: the echo socket listens and host0 has its address; b: the
	// client starts).
	boots := bootRe.FindAllStringSubmatch(r.stderr, -1)
	if len(boots) != 2 {
		t.Errorf("build log has %d container boots with times, want 2", len(boots))
	}
	for _, m := range boots {
		t.Logf("container %s: nspawn start to first unit %v", m[1], unixTime(m[3]).Sub(unixTime(m[2])).Round(time.Millisecond))
	}
	// A bound on a hang, not a timing test: the daemon must not wait for
	// anything once the builder has exited.
	m := doneRe.FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("build log has no builder done line")
	}
	lag := returned.Sub(unixTime(m[1]))
	t.Logf("builder's last line to client return: %v", lag.Round(time.Millisecond))
	if lag > 20*time.Second {
		t.Errorf("the client returned %v after the builder's last line, want well under 20s", lag)
	}

	unit := "sdbuild-" + b.ID + ".scope"
	waitGone(t, unit, func() string { return systemctl(t, "is-active", unit) })
	if _, err := os.Stat(filepath.Join("/sys/fs/cgroup/sdbuild.slice", unit)); !os.IsNotExist(err) {
		t.Errorf("the scope's cgroup %s is left: %v", unit, err)
	}
	if p := idsInUse(t); len(p) != 0 {
		t.Errorf("processes left after the multi-machine build: %q", p)
	}
	ifs, _ := net.Interfaces()
	for _, i := range ifs {
		if i.Name == "br0" || strings.HasPrefix(i.Name, "vb-") {
			t.Errorf("the build's interface %s is on the host", i.Name)
		}
	}
}

var (
	bootRe = regexp.MustCompile(`(?m)^boot (\w+): started ([0-9.]+), up ([0-9.]+)$`)
	doneRe = regexp.MustCompile(`(?m)^builder done at ([0-9.]+)$`)
)

// unixTime reads date +%s.%N, which the patterns above have matched.
func unixTime(s string) time.Time {
	f, _ := strconv.ParseFloat(s, 64)
	return time.Unix(0, int64(f*1e9))
}
