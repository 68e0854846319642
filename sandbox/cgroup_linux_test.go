package sandbox

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
	"github.com/sdbuild/sdbuild/internal/testutil"
)

// delegatedCgroup makes a cgroup for one test build on the host's cgroup2,
// as the daemon does in a build's scope: a root-owned parent and a "build"
// leaf whose directory and delegation files belong to the build's host id.
func delegatedCgroup(t *testing.T) (parent, leaf string) {
	t.Helper()
	testutil.RequireRoot(t, "creates namespaces, maps host ids and mounts")
	root, err := cgroup2.Root()
	if err != nil {
		t.Skipf("needs a cgroup2 hierarchy: %v", err)
	}
	parent = filepath.Join(root, fmt.Sprintf("sdbuild-test-%d", os.Getpid()))
	leaf = filepath.Join(parent, "build")
	if err := os.MkdirAll(leaf, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeCgroupTree(parent) })
	if _, err := cgroup2.DelegateFiles(); err != nil {
		t.Skipf("needs cgroup delegation: %v", err)
	}
	// The leaf stays root's: init gives it to the build.
	return parent, leaf
}

// removeCgroupTree removes a test's cgroups, deepest first.
func removeCgroupTree(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			removeCgroupTree(filepath.Join(dir, e.Name()))
		}
	}
	os.Remove(dir)
}

// runInCgroup runs s, releasing it into the cgroup directory leaf.
func runInCgroup(t *testing.T, s *Spec, leaf string) run {
	t.Helper()
	if err := PrepareDir(s.Dir); err != nil {
		t.Fatal(err)
	}
	p, err := Start(s)
	if err != nil {
		return run{err: err}
	}
	var log bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&log, p.Log); close(copied) }()
	dir, err := os.Open(leaf)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	if err := p.GoInCgroup(dir); err != nil {
		t.Fatalf("GoInCgroup: %v", err)
	}
	res, err := p.Wait()
	<-copied
	return run{res: res, err: err, log: log.String()}
}

// The systemd-cgroup feature: the build sees its own cgroup as the root of
// a fresh, writable cgroup2, under a read-only sysfs, with its own /run.
func TestSystemdCgroup(t *testing.T) {
	_, leaf := delegatedCgroup(t)
	tests := []struct{ name, script, want string }{
		{"own cgroup is the root", `grep '^0::' /proc/self/cgroup`, "0::/"},
		{"fresh cgroup2", `stat -f -c %T /sys/fs/cgroup; grep ' /sys/fs/cgroup ' /proc/self/mountinfo | grep -c cgroup2`, "cgroup2fs\n1"},
		{"sub-cgroups", `mkdir /sys/fs/cgroup/payload && echo $$ > /sys/fs/cgroup/payload/cgroup.procs && grep '^0::' /proc/self/cgroup`, "0::/payload"},
		{"sysfs read-only", `(touch /sys/x) 2>&1 | sed 's/.*: //'; grep ' /sys ' /proc/self/mountinfo | tail -1 | cut -d' ' -f6 | cut -d, -f1`, "Read-only file system\nro"},
		{"own network", `tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; cat /sys/class/net/lo/operstate`, "lo\nunknown"},
		{"run is ours", `echo x > /run/x && cat /run/x && stat -f -c %T /run`, "x\ntmpfs"},
		{"identity", `id -u; cat /proc/self/uid_map | tr -s ' '`, fmt.Sprintf("0\n 0 %d 65536", testHostID)},
		{"pid 1 of its own", `echo $$; cat /proc/1/cmdline | tr '\0' ' '`, "1\n/bin/sh -c PATH=/usr/bin:/bin; echo $$; cat /proc/1/cmdline | tr '\\0' ' '"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpec(t, tt.script)
			s.Features = Features{UIDRange: true, SystemdCgroup: true}
			r := runInCgroup(t, s, leaf)
			if r.err != nil || r.res.ExitCode != 0 {
				t.Fatalf("build: %v %+v\n%s", r.err, r.res, r.log)
			}
			if got := strings.TrimSpace(r.log); got != tt.want {
				t.Errorf("%s:\n got %q\nwant %q", tt.script, got, tt.want)
			}
			removeCgroupTree(filepath.Join(leaf, "payload"))
		})
	}
}

// The build cannot reach the cgroup its leaf sits in: the parent's files
// are neither visible nor writable.
func TestSystemdCgroupConfined(t *testing.T) {
	parent, leaf := delegatedCgroup(t)
	s := newSpec(t, `ls /sys/fs/cgroup/.. >/dev/null; test -e /sys/fs/cgroup/build && echo sees-itself-as-child; (echo $$ > /sys/fs/cgroup/../cgroup.procs) 2>/dev/null && echo moved-up; grep '^0::' /proc/self/cgroup`)
	s.Features = Features{UIDRange: true, SystemdCgroup: true}
	r := runInCgroup(t, s, leaf)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := strings.TrimSpace(r.log); got != "0::/" {
		t.Errorf("confinement: got %q, want only %q", got, "0::/")
	}
	procs, _ := os.ReadFile(filepath.Join(parent, "cgroup.procs"))
	if len(bytes.TrimSpace(procs)) != 0 {
		t.Errorf("a build process reached the parent cgroup: %q", procs)
	}
}

// The reason for all of the above: systemd-nspawn runs inside a build.
func TestNspawnInsideBuild(t *testing.T) {
	testutil.RequireBinary(t, "systemd-nspawn", "systemd-container")
	_, leaf := delegatedCgroup(t)
	s := newSpec(t, `systemd-nspawn -D / --volatile=yes --register=no --keep-unit -q --pipe -- /usr/bin/id`)
	s.Features = Features{UIDRange: true, SystemdCgroup: true}
	r := runInCgroup(t, s, leaf)
	if r.err != nil || r.res.ExitCode != 0 {
		t.Fatalf("nspawn build: %v %+v\n%s", r.err, r.res, r.log)
	}
	// --volatile=yes gives the container an empty /etc, so id has no
	// names for the ids; the ids are what matter.
	if !strings.HasPrefix(r.log, "uid=0") || !strings.Contains(r.log, " gid=0") {
		t.Errorf("nspawn inside the build printed %q, want uid=0 gid=0", r.log)
	}
}

// A nested systemd boots inside a build (systemd-nspawn --boot), reaches
// its default target, runs a command and powers off.
func TestNestedBootInsideBuild(t *testing.T) {
	testutil.RequireBinary(t, "systemd-nspawn", "systemd-container")
	_, leaf := delegatedCgroup(t)
	s := newSpec(t, `mkdir -p /build/u /build/r
printf '[Unit]\nRequires=basic.target\nAfter=basic.target\nWants=hello.service\n' > /build/u/t.target
printf '[Service]\nType=oneshot\nExecStart=/bin/sh -c "echo pid1=$(cat /proc/1/comm) > /r/out"\nExecStartPost=/bin/systemctl --no-block poweroff\n' > /build/u/hello.service
systemd-nspawn -D / --volatile=yes --register=no --keep-unit --console=pipe \
  --bind-ro=/build/u/t.target:/etc/systemd/system/t.target --bind-ro=/build/u/hello.service:/etc/systemd/system/hello.service \
  --bind=/build/r:/r --boot -- --unit=t.target && cat /build/r/out`)
	s.Features = Features{UIDRange: true, SystemdCgroup: true}
	r := runInCgroup(t, s, leaf)
	if r.err != nil || r.res.ExitCode != 0 || strings.TrimSpace(r.log) != "pid1=systemd" {
		t.Errorf("nested boot: %v %+v\n%s", r.err, r.res, r.log)
	}
}
