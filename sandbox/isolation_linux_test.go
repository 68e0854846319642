package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Requirement 1: new user, mount, pid, ipc, uts, net and cgroup namespaces.
func TestNamespacesAreNew(t *testing.T) {
	s := newSpec(t, `for n in user mnt pid ipc uts net cgroup; do echo "$n $(readlink /proc/self/ns/$n)"; done`)
	log := mustRun(t, s)
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		n, link, _ := strings.Cut(line, " ")
		got[n] = link
	}
	for _, n := range []string{"user", "mnt", "pid", "ipc", "uts", "net", "cgroup"} {
		host, err := os.Readlink("/proc/self/ns/" + n)
		if err != nil {
			t.Fatal(err)
		}
		if got[n] == "" || got[n] == host {
			t.Errorf("%s namespace inside = %q, host %q: want a new one", n, got[n], host)
		}
	}
}

// Requirement 2: identity and id maps.
func TestIdentity(t *testing.T) {
	tests := []struct {
		name     string
		features Features
		want     string
	}{
		{"default", Features{}, fmt.Sprintf("1000 100 sdbuild|1000 %d 1|100 %d 1|deny", testHostID, testHostID)},
		{"uid-range", Features{UIDRange: true}, fmt.Sprintf("0 0 root|0 %d 65536|0 %d 65536|allow", testHostID, testHostID)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpec(t, `echo "$(id -u) $(id -g) $(id -un)|$(echo $(cat /proc/self/uid_map))|$(echo $(cat /proc/self/gid_map))|$(cat /proc/self/setgroups)"; touch $out/mine`)
			s.Features = tt.features
			log := strings.TrimSpace(mustRun(t, s))
			if log != tt.want {
				t.Errorf("identity = %q, want %q", log, tt.want)
			}
			st, err := os.Lstat(filepath.Join(s.Dir, "out", "mine"))
			if err != nil {
				t.Fatal(err)
			}
			sys := st.Sys().(*syscall.Stat_t)
			if sys.Uid != testHostID || sys.Gid != testHostID {
				t.Errorf("file made by the builder is owned by %d:%d on the host, want %d:%d", sys.Uid, sys.Gid, testHostID, testHostID)
			}
		})
	}
}

// Requirement 3: fresh root, /proc, /dev, /etc, hostname, loopback only.
func TestRootFileSystem(t *testing.T) {
	tests := []struct {
		name, script, want string
	}{
		{"root listing", `ls -A / | tr '\n' ' '`, "bin build dev etc lib lib64 out proc sbin tmp usr"},
		{"root is a read-only tmpfs", `grep ' / / ' /proc/self/mountinfo | grep -o 'ro,nosuid,nodev.* - tmpfs'`, "ro,nosuid,nodev,relatime - tmpfs"},
		{"root is not writable", `touch /x 2>&1 | sed 's/.*: //'`, "Read-only file system"},
		{"proc is ours", `cat /proc/1/cmdline | tr '\0' ' '`, initArg0},
		{"dev", `ls -A /dev | tr '\n' ' '`, "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero"},
		{"dev nodes work", `head -c 4 /dev/zero | od -An -tx1 | tr -d ' '; echo x > /dev/null && echo null-ok`, "00000000\nnull-ok"},
		{"devpts is our own", `grep ' /dev/pts ' /proc/self/mountinfo | cut -d' ' -f9-`, "devpts rw,mode=620,ptmxmode=666"},
		{"shm writable", `echo a > /dev/shm/a && cat /dev/shm/a`, "a"},
		{"passwd", `cat /etc/passwd`, "root:x:0:0:root:/build:/noshell\nsdbuild:x:1000:100:sdbuild builder:/homeless-shelter:/noshell\nnobody:x:65534:65534:nobody:/var/empty:/noshell"},
		{"group", `cat /etc/group`, "root:x:0:\nsdbuild:x:100:\nnogroup:x:65534:"},
		{"hosts", `cat /etc/hosts`, "127.0.0.1 localhost\n::1 localhost"},
		{"hostname", `echo $(hostname) $(cat /proc/sys/kernel/domainname)`, "localhost localhost"},
		{"interfaces", `tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '`, "lo"},
		{"no sys, no run", `ls -d /sys /run 2>&1 | wc -l; test -e /sys || echo nosys`, "2\nnosys"},
		{"cgroup root", `grep '^0::' /proc/self/cgroup`, "0::/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpec(t, tt.script)
			if got := strings.TrimSpace(mustRun(t, s)); got != tt.want {
				t.Errorf("%s:\n got %q\nwant %q", tt.script, got, tt.want)
			}
		})
	}
}

func TestLoopbackUp(t *testing.T) {
	s := newSpec(t, helperPath+" loopback")
	withHelper(t, s)
	if got := strings.TrimSpace(mustRun(t, s)); got != "ok" {
		t.Errorf("loopback = %q, want ok", got)
	}
}

// Requirement 4: inputs are read-only, nosuid, nodev, recursive; symlinks
// stay symlinks; files work too.
func TestInputs(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "data"), []byte("input data\n"), 0o644)
	os.Mkdir(filepath.Join(src, "sub"), 0o755)
	// A submount in the input must come along (recursive bind).
	if err := unix.Mount("tmpfs", filepath.Join(src, "sub"), "tmpfs", 0, "size=64k"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(filepath.Join(src, "sub"), unix.MNT_DETACH) })
	os.WriteFile(filepath.Join(src, "sub", "deep"), []byte("deep\n"), 0o644)
	link := filepath.Join(t.TempDir(), "link")
	os.Symlink("in/data", link)
	file := filepath.Join(t.TempDir(), "single")
	os.WriteFile(file, []byte("single\n"), 0o644)

	tests := []struct {
		name, script, want string
	}{
		{"content", `cat /in/data /in/sub/deep`, "input data\ndeep"},
		{"file input", `cat /etc/single`, "single"},
		{"symlink input", `readlink /link; cat /link`, "in/data\ninput data"},
		{"merged usr", `readlink /bin`, "usr/bin"},
		{"write refused", `(echo x > /in/data) 2>&1 | sed 's/.*: //'; (echo x > /in/sub/deep) 2>&1 | sed 's/.*: //'`, "Read-only file system\nRead-only file system"},
		{"flags", `grep -E ' /in(/sub)? ' /proc/self/mountinfo | cut -d' ' -f5,6`, "/in ro,nosuid,nodev,relatime\n/in/sub ro,nosuid,nodev,relatime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpec(t, tt.script)
			s.Inputs = append(s.Inputs, Mount{Host: src, Sandbox: "/in"}, Mount{Host: file, Sandbox: "/etc/single"}, Mount{Host: link, Sandbox: "/link"})
			if got := strings.TrimSpace(mustRun(t, s)); got != tt.want {
				t.Errorf("%s:\n got %q\nwant %q", tt.script, got, tt.want)
			}
		})
	}
}

// An input's mount point is never created by following a symlink out of
// the sandbox root onto the host.
func TestInputMountPointNotThroughSymlink(t *testing.T) {
	hostDir := t.TempDir()
	link := filepath.Join(t.TempDir(), "escape")
	os.Symlink(hostDir, link) // absolute: resolved on the host it would land in hostDir
	s := newSpec(t, `true`)
	s.Inputs = append(s.Inputs, Mount{Host: link, Sandbox: "/escape"}, Mount{Host: "/usr/share", Sandbox: "/escape/share"})
	r := runSpec(t, s)
	if !errors.Is(r.err, ErrSetup) || !strings.Contains(r.err.Error(), "not a directory") {
		t.Fatalf("err = %v, want a setup error about the symlink", r.err)
	}
	if entries, _ := os.ReadDir(hostDir); len(entries) != 0 {
		t.Errorf("host directory %s got %d entries through the symlink", hostDir, len(entries))
	}
}

// Requirement 4 and the hostile reads: nothing of the host but the inputs.
func TestHostIsInvisible(t *testing.T) {
	secret := t.TempDir()
	os.Chmod(secret, 0o755)
	os.WriteFile(filepath.Join(secret, "shadow"), []byte("secret\n"), 0o600)
	tests := []struct {
		name, script, want string
	}{
		{"root home", `ls /root 2>&1 | sed 's/.*: //'`, "No such file or directory"},
		{"etc shadow", `cat /etc/shadow 2>&1 | sed 's/.*: //'`, "No such file or directory"},
		{"unreadable input file", `cat /secret/shadow 2>&1 | sed 's/.*: //'`, "Permission denied"},
		{"init's exe", `cat /proc/1/exe 2>&1 >/dev/null | sed 's/.*: //'; ls /proc/1/root/ 2>&1 | sed 's/.*: //'`, "Permission denied\nPermission denied"},
	}
	for _, tt := range tests {
		for _, f := range []Features{{}, {UIDRange: true}} {
			t.Run(fmt.Sprintf("%s/%v", tt.name, f.Names()), func(t *testing.T) {
				s := newSpec(t, tt.script)
				s.Features = f
				s.Inputs = append(s.Inputs, Mount{Host: secret, Sandbox: "/secret"})
				if got := strings.TrimSpace(mustRun(t, s)); got != tt.want {
					t.Errorf("%s:\n got %q\nwant %q", tt.script, got, tt.want)
				}
			})
		}
	}
}

// Requirement 5: mounts are locked, even for root under uid-range.
func TestMountsAreLocked(t *testing.T) {
	tests := []struct {
		name     string
		features Features
		script   string
		want     string
	}{
		{"root umount input", Features{UIDRange: true}, helperPath + " umount /usr", "EINVAL"},
		{"root lazy umount input", Features{UIDRange: true}, helperPath + " umount-detach /usr", "EINVAL"},
		{"root umount proc", Features{UIDRange: true}, helperPath + " umount /proc", "EINVAL"},
		{"root remount input rw", Features{UIDRange: true}, helperPath + " remount-rw /usr", "EPERM"},
		{"root mount_setattr rw", Features{UIDRange: true}, helperPath + " setattr-rw /usr", "EPERM"},
		{"root remount root rw", Features{UIDRange: true}, helperPath + " setattr-rw /", "EPERM"},
		{"root writes input", Features{UIDRange: true}, helperPath + " mkdir-in /usr", "EROFS"},
		{"user umount input", Features{}, helperPath + " umount /usr", "EPERM"},
		{"user remount input rw", Features{}, helperPath + " remount-rw /usr", "EPERM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpec(t, tt.script)
			s.Features = tt.features
			withHelper(t, s)
			if got := strings.TrimSpace(mustRun(t, s)); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.script, got, tt.want)
			}
		})
	}
}

// Requirement 6: writable /build (cwd, TMPDIR) and /tmp; host side private.
func TestWritableDirs(t *testing.T) {
	s := newSpec(t, `pwd; echo a > $TMPDIR/a && echo b > /tmp/b && cat a /tmp/b; stat -c %a /tmp`)
	if got := strings.TrimSpace(mustRun(t, s)); got != "/build\na\nb\n1777" {
		t.Errorf("got %q", got)
	}
	st, err := os.Stat(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 || st.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("host build dir %s: mode %v uid %d, want 0700 root", s.Dir, st.Mode(), st.Sys().(*syscall.Stat_t).Uid)
	}
}

// Requirement 7: environment, fds, core limit, session keyring, terminal.
func TestProcessState(t *testing.T) {
	hostRing, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, true)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, script, want string
		env                []string
	}{
		{"env", "", "PATH=/path-not-set\nHOME=/homeless-shelter\nout=/out\nTMPDIR=/build\nSDBUILD_BUILD_ID=test", nil},
		{"env set", "", "PATH=/usr/local/bin\nHOME=/homeless-shelter\nFOO=bar\nout=/out\nTMPDIR=/build\nSDBUILD_BUILD_ID=test", []string{"FOO=bar", "PATH=/usr/local/bin"}},
		{"fds", helperPath + " fds", "0 1 2", nil},
		{"stdin", `readlink /proc/self/fd/0; tty || true`, "/dev/null\nnot a tty", nil},
		{"core limit", `grep 'Max core' /proc/self/limits | tr -s ' '`, "Max core file size 0 0 bytes", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpec(t, tt.script)
			s.Env = tt.env
			withHelper(t, s)
			if tt.script == "" {
				s.Args = []string{"/usr/bin/env"} // exactly what the builder got, no shell in between
			}
			if got := strings.TrimSpace(mustRun(t, s)); got != tt.want {
				t.Errorf("%s:\n got %q\nwant %q", tt.script, got, tt.want)
			}
		})
	}
	t.Run("keyring", func(t *testing.T) {
		s := newSpec(t, helperPath+" keyring")
		withHelper(t, s)
		got := strings.Fields(mustRun(t, s))
		if len(got) != 2 || got[1] != "ok" || got[0] == strconv.Itoa(hostRing) {
			t.Errorf("session keyring inside = %v, host %d: want a new one", got, hostRing)
		}
	})
}

// Requirement 9: nothing of the build outlives it.
func TestNothingLeftRunning(t *testing.T) {
	for _, script := range []string{
		`sleep 1000 & echo started`,
		`setsid sh -c 'sleep 1000' </dev/null >/dev/null 2>&1 & echo started`,
		`(trap '' TERM HUP; sleep 1000) & echo started`,
	} {
		for _, f := range []Features{{}, {UIDRange: true}} {
			t.Run(script, func(t *testing.T) {
				s := newSpec(t, script)
				s.Features = f
				if got := strings.TrimSpace(mustRun(t, s)); got != "started" {
					t.Errorf("log = %q", got)
				}
				if pids := processesWithID(t, testHostID, s.IDCount); len(pids) != 0 {
					t.Errorf("processes with ids of the build still running: %v", pids)
				}
			})
		}
	}
}

func TestKill(t *testing.T) {
	s := newSpec(t, `echo up; sleep 1000`)
	if err := PrepareDir(s.Dir); err != nil {
		t.Fatal(err)
	}
	p, err := Start(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Go(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(p.Log).ReadString('\n')
	if err != nil || line != "up\n" {
		t.Fatalf("first line = %q, %v", line, err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); !errors.Is(err, ErrKilled) {
		t.Errorf("Wait after Kill = %v, want ErrKilled", err)
	}
	if pids := processesWithID(t, testHostID, s.IDCount); len(pids) != 0 {
		t.Errorf("processes left after Kill: %v", pids)
	}
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		script string
		args   []string
		want   Result
	}{
		{script: "exit 0", want: Result{}},
		{script: "exit 3", want: Result{ExitCode: 3}},
		{script: "kill -9 $$", want: Result{ExitCode: 137, Signal: 9}},
		{args: []string{"/no/such/builder"}, want: Result{ExitCode: 127, ExecError: "exec /no/such/builder: no such file or directory"}},
		{args: []string{"nosuchcommand"}, want: Result{ExitCode: 127, ExecError: `exec nosuchcommand: not found in PATH "/path-not-set": no such file or directory`}},
		{args: []string{"/etc/passwd"}, want: Result{ExitCode: 126, ExecError: "exec /etc/passwd: permission denied"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.script, tt.args), func(t *testing.T) {
			s := newSpec(t, tt.script)
			if tt.args != nil {
				s.Args = tt.args
			}
			r := runSpec(t, s)
			// A builder that ran has its rusage; its figures vary.
			if ran := tt.want.ExecError == ""; ran != (r.res.Rusage != nil) {
				t.Errorf("rusage = %+v, want one only when the builder ran", r.res.Rusage)
			}
			r.res.Rusage = nil
			if r.err != nil || r.res != tt.want {
				t.Errorf("result = %+v, %v; want %+v", r.res, r.err, tt.want)
			}
		})
	}
}

func TestMissingInputFailsSetup(t *testing.T) {
	s := newSpec(t, "true")
	s.Inputs = append(s.Inputs, Mount{Host: "/no/such/input", Sandbox: "/x"})
	r := runSpec(t, s)
	if !errors.Is(r.err, ErrSetup) || !strings.Contains(r.err.Error(), "/no/such/input") {
		t.Errorf("err = %v, want a setup error naming the input", r.err)
	}
}

// processesWithID lists host processes with any uid or gid in [first, first+n).
func processesWithID(t *testing.T, first, n uint32) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "Uid:") && !strings.HasPrefix(line, "Gid:") {
				continue
			}
			for _, f := range strings.Fields(line)[1:] {
				id, _ := strconv.ParseUint(f, 10, 32)
				if uint32(id) >= first && uint64(id) < uint64(first)+uint64(n) {
					pids = append(pids, pid)
				}
			}
		}
	}
	return pids
}

// The kvm and tun features: the build gets its own node of the device,
// usable by the unprivileged builder though the host's is root's alone.
func TestDeviceFeatures(t *testing.T) {
	tests := []struct {
		name     string
		features Features
		device   string
		script   string
		want     string
	}{
		{"kvm", Features{KVM: true}, DevKVM, helperPath + " kvm; stat -c '%a %u' /dev/kvm", "12 ok\n600 1000"},
		{"tun", Features{TUN: true}, DevTUN, helperPath + " open-rw /dev/net/tun", "ok"},
		{"no kvm without the feature", Features{}, DevKVM, "test -e /dev/kvm || echo absent", "absent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckDevice(tt.device); err != nil {
				t.Skipf("this host has no %s: %v", tt.device, err)
			}
			s := newSpec(t, tt.script)
			s.Features = tt.features
			withHelper(t, s)
			if got := strings.TrimSpace(mustRun(t, s)); got != tt.want {
				t.Errorf("%s:\n got %q\nwant %q", tt.script, got, tt.want)
			}
		})
	}
}
