//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
)

// Rootless mode: sdbuild as two unprivileged users' own daemons, under
// user managers (user@UID.service) of the throwaway systemd. The users,
// their subordinate ids and a persistent journal (so that a user reads
// their own journal, as on a real host) exist only in the testbed's mount
// namespace: /etc and /var/log get overlays there.
//
// rlUser has a subordinate range of 2 slots from 0xE5000000, apart from
// every other package's tests; rlPlain has none.
const (
	rlSubStart = 3841982464
	rlSubCount = 2 * 65536
)

// rlAccount is one test user.
type rlAccount struct {
	name string
	uid  uint32
	home string
}

func (a *rlAccount) runtimeDir() string { return fmt.Sprintf("/run/user/%d", a.uid) }

var (
	rlUser  = &rlAccount{name: "sdbuild-rl", uid: 61000}
	rlPlain = &rlAccount{name: "sdbuild-rl2", uid: 61001}

	rlOnce     sync.Once
	rlErr      error
	rlTeardown []func()
)

// rootless sets up the users and their daemons once, or fails t.
func rootless(t *testing.T) {
	t.Helper()
	rlOnce.Do(func() { rlErr = setupRootless() })
	if rlErr != nil {
		t.Fatalf("set up rootless users: %v", rlErr)
	}
}

// teardownRootless undoes setupRootless, last step first.
func teardownRootless() {
	for i := len(rlTeardown) - 1; i >= 0; i-- {
		rlTeardown[i]()
	}
}

func setupRootless() error {
	tmp := filepath.Dir(binDir)
	if err := os.Mkdir(filepath.Join(tmp, "home"), 0o755); err != nil {
		return err
	}
	for _, a := range []*rlAccount{rlUser, rlPlain} {
		a.home = filepath.Join(tmp, "home", a.name)
		if err := os.MkdirAll(a.home, 0o700); err != nil {
			return err
		}
		if err := os.Chown(a.home, int(a.uid), int(a.uid)); err != nil {
			return err
		}
	}
	if err := overlay("/etc", filepath.Join(tmp, "etc")); err != nil {
		return err
	}
	add := map[string]string{
		"passwd": fmt.Sprintf("%s:x:%d:%d::%s:/bin/sh\n%s:x:%d:%d::%s:/bin/sh\n",
			rlUser.name, rlUser.uid, rlUser.uid, rlUser.home, rlPlain.name, rlPlain.uid, rlPlain.uid, rlPlain.home),
		"group":  fmt.Sprintf("%s:x:%d:\n%s:x:%d:\n", rlUser.name, rlUser.uid, rlPlain.name, rlPlain.uid),
		"shadow": fmt.Sprintf("%s:*:19000:0:99999:7:::\n%s:*:19000:0:99999:7:::\n", rlUser.name, rlPlain.name),
		"subuid": fmt.Sprintf("%s:%d:%d\n", rlUser.name, rlSubStart, rlSubCount),
		"subgid": fmt.Sprintf("%s:%d:%d\n", rlUser.name, rlSubStart, rlSubCount),
	}
	for name, lines := range add {
		f, err := os.OpenFile("/etc/"+name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		_, err = f.WriteString(lines)
		f.Close()
		if err != nil {
			return err
		}
	}
	// A persistent journal split by user, where each user reads their own
	// entries (journalctl --user), as on a host with /var/log/journal.
	if err := overlay("/var/log", filepath.Join(tmp, "log")); err != nil {
		return err
	}
	if err := os.MkdirAll("/var/log/journal", 0o2755); err != nil {
		return err
	}
	jconf := "/run/systemd/journald.conf.d/zz-sdbuild-rootless.conf"
	if err := os.WriteFile(jconf, []byte("[Journal]\nStorage=persistent\nSplitMode=uid\n"), 0o644); err != nil {
		return err
	}
	rlTeardown = append(rlTeardown, func() {
		os.Remove(jconf)
		exec.Command("systemctl", "restart", "systemd-journald").Run()
	})
	if out, err := exec.Command("systemctl", "restart", "systemd-journald").CombinedOutput(); err != nil {
		return fmt.Errorf("restart journald: %v: %s", err, out)
	}
	if out, err := exec.Command("journalctl", "--flush").CombinedOutput(); err != nil {
		return fmt.Errorf("journalctl --flush: %v: %s", err, out)
	}
	for _, a := range []*rlAccount{rlUser, rlPlain} {
		unit := fmt.Sprintf("user@%d.service", a.uid)
		rlTeardown = append(rlTeardown, func() { exec.Command("systemctl", "stop", unit).Run() })
		if out, err := exec.Command("systemctl", "start", unit).CombinedOutput(); err != nil {
			return fmt.Errorf("start %s: %v: %s", unit, err, out)
		}
		// The issue's own steps: install the user units, enable the socket.
		if r := a.run(nil, filepath.Join(binDir, "sdbuild"), "install-units", "--bindir", binDir); r.code != 0 {
			return fmt.Errorf("%s: install-units: %s%s", a.name, r.stdout, r.stderr)
		}
		if r := a.run(nil, "systemctl", "--user", "enable", "--now", "sdbuild.socket"); r.code != 0 {
			return fmt.Errorf("%s: systemctl --user enable --now sdbuild.socket: %s%s", a.name, r.stdout, r.stderr)
		}
	}
	return nil
}

// overlay puts a writable overlay over dir, its upper layer in under; the
// mount exists only in the testbed's mount namespace.
func overlay(dir, under string) error {
	upper, work := filepath.Join(under, "upper"), filepath.Join(under, "work")
	for _, d := range []string{upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", dir, upper, work)
	if err := syscall.Mount("overlay", dir, "overlay", 0, opts); err != nil {
		return fmt.Errorf("overlay on %s: %w", dir, err)
	}
	rlTeardown = append(rlTeardown, func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return nil
}

// env is the environment a user's login session would give.
func (a *rlAccount) env() []string {
	return []string{
		"HOME=" + a.home, "USER=" + a.name, "PATH=/usr/bin:/bin",
		"XDG_RUNTIME_DIR=" + a.runtimeDir(),
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + a.runtimeDir() + "/bus",
	}
}

// run runs a command as the user, in the user's home.
func (a *rlAccount) run(t *testing.T, name string, args ...string) result {
	if t != nil {
		t.Helper()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = a.env(), a.home
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: a.uid, Gid: a.uid, Groups: []uint32{}}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		r.code, r.stderr = -1, err.Error()
		if t != nil {
			t.Fatalf("%s %q as %s: %v", name, args, a.name, err)
		}
	}
	return r
}

// sdbuild runs the CLI as the user, which finds the user's own daemon by
// its socket in $XDG_RUNTIME_DIR.
func (a *rlAccount) sdbuild(t *testing.T, args ...string) result {
	t.Helper()
	return a.run(t, filepath.Join(binDir, "sdbuild"), args...)
}

func (a *rlAccount) systemctl(t *testing.T, args ...string) string {
	t.Helper()
	r := a.run(t, "systemctl", append([]string{"--user"}, args...)...)
	return strings.TrimSpace(r.stdout + r.stderr)
}

func (a *rlAccount) show(t *testing.T, id string) *api.Build {
	t.Helper()
	r := a.sdbuild(t, "show", "--json", id)
	var b api.Build
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil {
		t.Fatalf("show %s as %s: %v\n%s%s", id, a.name, err, r.stdout, r.stderr)
	}
	return &b
}

// procUID is the real uid of pid, as the host sees it.
func procUID(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			return strconv.ParseUint(strings.Fields(v)[0], 10, 32)
		}
	}
	return 0, fmt.Errorf("pid %d: no Uid line", pid)
}

func TestRootlessSocketActivationAndPlainBuild(t *testing.T) {
	rootless(t)
	a := rlUser
	if st := a.systemctl(t, "is-active", "sdbuild.socket"); st != "active" {
		t.Fatalf("sdbuild.socket of %s is %q, want active", a.name, st)
	}
	// Only the socket was enabled: the first connection starts the daemon.
	if st := a.systemctl(t, "is-active", "sdbuild.service"); st != "inactive" {
		t.Errorf("sdbuild.service of %s is %q before any client came, want inactive", a.name, st)
	}
	if st, err := os.Stat(filepath.Join(a.runtimeDir(), "sdbuild", "sdbuild.sock")); err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("user socket: %v %v, want a socket with mode 0600", st, err)
	}
	r := a.sdbuild(t, runArgs([]string{"--name", "rootless-plain", "-o", "./r"}, "id; echo ok > $out/x; echo rootless-marker-$SDBUILD_BUILD_ID")...)
	if r.code != 0 {
		t.Fatalf("build as %s: exit %d\n%s%s", a.name, r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "uid=1000(") || !strings.Contains(r.stdout, "gid=100(") {
		t.Errorf("builder identity: %q, want uid=1000 gid=100", r.stdout)
	}
	out := filepath.Join(a.home, "r", "x")
	var st syscall.Stat_t
	if b, err := os.ReadFile(out); err != nil || string(b) != "ok\n" {
		t.Errorf("output %s: %q %v, want ok", out, b, err)
	} else if err := syscall.Lstat(out, &st); err != nil || st.Uid != a.uid {
		t.Errorf("output %s owned by %d (%v), want %s (%d)", out, st.Uid, err, a.name, a.uid)
	}

	// The daemon socket-activated by the user's manager runs as the user.
	pid, _ := strconv.Atoi(strings.TrimPrefix(a.systemctl(t, "show", "-p", "MainPID", "sdbuild.service"), "MainPID="))
	if uid, err := procUID(pid); pid == 0 || err != nil || uid != uint64(a.uid) {
		t.Errorf("sdbuild.service main pid %d: uid %d (%v), want %d", pid, uid, err, a.uid)
	}

	// Same history and journald as root mode: the build is recorded with
	// its scope, and its output is in the user's own journal under it.
	var id string
	for _, line := range strings.Split(r.stdout, "\n") {
		if v, ok := strings.CutPrefix(line, "rootless-marker-"); ok {
			id = v
		}
	}
	b := a.show(t, id)
	if b.Status != "succeeded" || b.Unit != "sdbuild-"+id+".scope" || b.Name != "rootless-plain" {
		t.Errorf("show %s: status %s unit %q name %q", id, b.Status, b.Unit, b.Name)
	}
	waitFor(t, "the build's line in the user's journal", func() bool {
		jr := a.run(t, "journalctl", "--user", "-u", b.Unit, "-o", "cat", "--no-pager")
		return strings.Contains(jr.stdout, "rootless-marker-"+id)
	})
	if sys := systemctl(t, "status", b.Unit); !strings.Contains(sys, "could not be found") {
		t.Errorf("the build's scope is a unit of the system manager too: %s", sys)
	}
}

// A user's own daemon prepares sandboxes ahead of demand too. Their
// scopes wait in the user's manager and their inits run as the user, on
// no slot's ids. Two plain builds at once each take one and run on their
// own slot's first id alone, which init's map of the user's whole pool
// puts where the slot is.
func TestRootlessPrepared(t *testing.T) {
	rootless(t)
	a := rlUser
	a.sdbuild(t, "status") // starts the daemon
	waiting := a.readyPrepared(t, 2)
	if p := pidsWithUIDIn(t, rlSubStart, rlSubCount); len(p) != 0 {
		t.Errorf("processes on the subordinate ids while only prepared sandboxes wait: %v", p)
	}
	// run --local on the same state directory leaves them alone.
	if r := a.sdbuild(t, append(append([]string{"run", "--local"}, inputs...), "--", "/bin/true")...); r.code != 0 {
		t.Fatalf("run --local beside the daemon: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, id := range waiting {
		if _, err := os.Stat(filepath.Join(a.home, ".local/state/sdbuild/builds", "prepared-"+id)); err != nil {
			t.Errorf("prepared sandbox %s after run --local beside the daemon: %v, want its directory kept", id, err)
		}
	}
	var ids []string
	for range 2 {
		r := a.sdbuild(t, runArgs([]string{"--detach"}, "sleep 1000")...)
		if r.code != 0 {
			t.Fatalf("submit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		ids = append(ids, strings.TrimSpace(r.stdout))
	}
	defer func() {
		for _, id := range ids {
			a.sdbuild(t, "cancel", id)
		}
		for _, id := range ids {
			unit := "sdbuild-" + id + ".scope"
			waitGone(t, unit, func() string { return a.systemctl(t, "is-active", unit) })
		}
	}()
	for _, id := range ids {
		if !slices.Contains(waiting, id) {
			t.Errorf("build %s did not take a prepared sandbox (waiting: %v)", id, waiting)
		}
	}
	// Each builder's uid_map, read from the host, is one id: its slot's
	// first.
	want := []string{fmt.Sprintf("1000 %d 1", rlSubStart), fmt.Sprintf("1000 %d 1", rlSubStart+65536)}
	var maps []string
	waitFor(t, "both builds on their slots", func() bool {
		maps = nil
		for _, pid := range pidsWithUIDIn(t, rlSubStart, rlSubCount) {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pid)); err == nil {
				if m := strings.Join(strings.Fields(string(b)), " "); !slices.Contains(maps, m) {
					maps = append(maps, m)
				}
			}
		}
		slices.Sort(maps)
		return len(maps) >= 2
	})
	if !slices.Equal(maps, want) {
		t.Errorf("builders' uid maps from the host: %q, want %q", maps, want)
	}
}

func TestRootlessScopeInUserManager(t *testing.T) {
	rootless(t)
	a := rlUser
	r := a.sdbuild(t, runArgs([]string{"--detach"}, "sleep 30")...)
	if r.code != 0 {
		t.Fatalf("submit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	unit := "sdbuild-" + id + ".scope"
	waitFor(t, unit+" active in the user's manager", func() bool { return a.systemctl(t, "is-active", unit) == "active" })
	cg := strings.TrimPrefix(a.systemctl(t, "show", "-p", "ControlGroup", unit), "ControlGroup=")
	want := fmt.Sprintf("/user.slice/user-%d.slice/user@%d.service/sdbuild.slice/%s", a.uid, a.uid, unit)
	if cg != want {
		t.Errorf("scope cgroup %q, want %q", cg, want)
	}
	if d := a.systemctl(t, "show", "-p", "Delegate", unit); d != "Delegate=yes" {
		t.Errorf("scope %s: %s, want Delegate=yes", unit, d)
	}
	if c := a.sdbuild(t, "cancel", id); c.code != 0 {
		t.Fatalf("cancel: %s%s", c.stdout, c.stderr)
	}
	waitFor(t, "the cancelled build", func() bool { return a.show(t, id).Status == "cancelled" })
	waitGone(t, unit, func() string { return a.systemctl(t, "is-active", unit) })
}

func TestRootlessUIDRange(t *testing.T) {
	rootless(t)
	a := rlUser
	// The builder is root of its namespace over the slot's subordinate ids;
	// the daemon's own uid is not in its map at all.
	r := a.sdbuild(t, runArgs([]string{"--feature", "uid-range", "--detach"},
		"id -u > /out/id; cat /proc/self/uid_map > /out/map; touch /build/ready; sleep 30")...)
	if r.code != 0 {
		t.Fatalf("submit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	// From the host: the build's processes run as subordinate ids, and
	// the map of the namespace they are root in starts in the grant.
	var pids []int
	waitFor(t, "the builder on subordinate ids", func() bool {
		pids = pidsWithUIDIn(t, rlSubStart, rlSubCount)
		return len(pids) > 0
	})
	m, err := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pids[0]))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("builder pid %d (host uid in the grant), its uid_map from the host: %s", pids[0], strings.TrimSpace(string(m)))
	if f := strings.Fields(string(m)); len(f) != 3 || f[0] != "0" || f[2] != "65536" || f[1] == strconv.Itoa(int(a.uid)) {
		t.Errorf("builder's uid_map from the host: %q, want root over 65536 subordinate ids", m)
	} else if first, _ := strconv.ParseUint(f[1], 10, 32); first < rlSubStart || first+65536 > rlSubStart+rlSubCount {
		t.Errorf("builder's uid_map from the host: %q, outside the grant %d+%d", m, rlSubStart, rlSubCount)
	}
	if c := a.sdbuild(t, "cancel", id); c.code != 0 {
		t.Fatalf("cancel: %s%s", c.stdout, c.stderr)
	}
	waitFor(t, "the cancelled build", func() bool { return a.show(t, id).Status == "cancelled" })
	waitFor(t, "no process left on the subordinate ids", func() bool { return len(pidsWithUIDIn(t, rlSubStart, rlSubCount)) == 0 })

	// A finished uid-range build's files, owned by subordinate ids, still
	// come out as the user's.
	r = a.sdbuild(t, runArgs([]string{"--feature", "uid-range", "-o", "./uidrange"},
		"id -u; mkdir $out/d; echo x > $out/d/f; chown 5:5 $out/d/f; chmod 600 $out/d/f; chmod 0 $out/d; "+
			"mkdir $out/ro; echo r > $out/ro/f; chmod 444 $out/ro/f; chmod 555 $out/ro")...)
	if r.code != 0 || strings.TrimSpace(strings.Split(r.stdout, "\n")[0]) != "0" {
		t.Fatalf("uid-range build: exit %d, want 0 printing uid 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	out := filepath.Join(a.home, "uidrange")
	defer outputsRemove(t, out)
	if b, err := os.ReadFile(filepath.Join(out, "d", "f")); err != nil || string(b) != "x\n" {
		t.Errorf("output of a uid-range build: %q %v", b, err)
	}
	// Read-only outputs come out read-only, as from the system daemon.
	for p, want := range map[string]os.FileMode{"ro": 0o555, "ro/f": 0o444} {
		if fi, err := os.Lstat(filepath.Join(out, p)); err != nil || fi.Mode().Perm() != want {
			t.Errorf("output %s: mode %v (%v), want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	a.noBuildDirsLeft(t, "after the build")
}

// readyPrepared is readyPrepared of a's daemon and a's manager.
func (a *rlAccount) readyPrepared(t *testing.T, n int) []string {
	t.Helper()
	return readyPrepared(t, n, func() int { return preparedCountOf(t, a.sdbuild(t, "status", "--json")) }, func() []string {
		return preparedScopesOf(t, func(args ...string) string { return a.systemctl(t, args...) })
	})
}

// noBuildDirsLeft fails t if a build's directory is left in a's builds
// directory: only prepared sandboxes', which no build has used, may be.
func (a *rlAccount) noBuildDirsLeft(t *testing.T, when string) {
	t.Helper()
	builds := filepath.Join(a.home, ".local/state/sdbuild/builds")
	ents, err := os.ReadDir(builds)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "prepared-") {
			t.Errorf("%s %s: %s left, want only prepared sandboxes' directories", builds, when, e.Name())
		}
	}
}

// pidsWithUIDIn lists processes with an id in [first, first+count).
func pidsWithUIDIn(t *testing.T, first, count uint64) []int {
	t.Helper()
	var pids []int
	for _, p := range idsInRange(t, first, count) {
		if pid, err := strconv.Atoi(strings.Fields(p)[0]); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestRootlessUIDRangeRefusedWithoutSubIDs(t *testing.T) {
	rootless(t)
	a := rlPlain
	r := a.sdbuild(t, runArgs([]string{"--feature", "uid-range"}, "id")...)
	if r.code != 125 {
		t.Fatalf("uid-range without subordinate ids: exit %d, want 125\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"/etc/subuid", a.name + ":", "usermod --add-subuids"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("refusal %q does not name %s", r.stderr, want)
		}
	}
	// A plain build still runs, as the user's own single id.
	r = a.sdbuild(t, runArgs(nil, "id; cat /proc/self/uid_map")...)
	if r.code != 0 || !strings.Contains(r.stdout, "uid=1000") {
		t.Fatalf("plain build without subordinate ids: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestRootlessInputsStayReadOnly(t *testing.T) {
	rootless(t)
	a := rlUser
	inputDir := filepath.Join(a.home, "in")
	if err := os.MkdirAll(inputDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inputDir, "f"), []byte("original\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chown(inputDir, int(a.uid), int(a.uid))
	os.Chown(filepath.Join(inputDir, "f"), int(a.uid), int(a.uid))
	// Root of the build (uid-range) tries every way to write the inputs.
	script := `id -u
for p in /in/f /usr/sdbuild-escape; do (echo x > $p) 2>&1 && echo WROTE $p; done
mount -o remount,rw /in 2>&1 && echo REMOUNTED
umount /in 2>&1 && echo UNMOUNTED
umount -l /usr 2>&1 && echo UNMOUNTED-usr
echo done`
	r := a.sdbuild(t, runArgs([]string{"--feature", "uid-range", "-i", inputDir + ":/in"}, script)...)
	if r.code != 0 || !strings.Contains(r.stdout, "done") {
		t.Fatalf("build: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("build trying to write its inputs:\n%s", r.stdout)
	for _, bad := range []string{"WROTE", "REMOUNTED", "UNMOUNTED"} {
		if strings.Contains(r.stdout, bad) {
			t.Errorf("the build could change its inputs: %s", r.stdout)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(inputDir, "f")); string(b) != "original\n" {
		t.Errorf("input changed: %q", b)
	}
	if _, err := os.Stat("/usr/sdbuild-escape"); err == nil {
		t.Errorf("the build wrote /usr/sdbuild-escape on the host")
	}
}

func TestRootlessDoctor(t *testing.T) {
	rootless(t)
	for _, tc := range []struct {
		a    *rlAccount
		want []string
	}{
		{rlUser, []string{fmt.Sprintf("uids %d-%d", rlSubStart, rlSubStart+rlSubCount-1), "newuidmap", "checking your own daemon"}},
		{rlPlain, []string{"every build runs as your uid", rlPlain.name + ":", "/etc/subuid"}},
	} {
		r := tc.a.sdbuild(t, "doctor")
		t.Logf("sdbuild doctor as %s:\n%s", tc.a.name, r.stdout)
		if r.code != 0 {
			t.Errorf("doctor as %s: exit %d\n%s%s", tc.a.name, r.code, r.stdout, r.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("doctor as %s does not say %q:\n%s", tc.a.name, w, r.stdout)
			}
		}
	}
}

// systemd-nspawn runs inside a rootless build too: uid-range on the
// user's subordinate ids and systemd-cgroup on a scope of the user's
// manager, whose cgroup the build's init gives to the build.
func TestRootlessNestedNspawn(t *testing.T) {
	rootless(t)
	a := rlUser
	r := a.sdbuild(t, runArgs([]string{"--feature", "uid-range", "--feature", "systemd-cgroup"},
		`systemd-nspawn -D / --volatile=yes --register=no --keep-unit -q --pipe -- id; echo "unit sdbuild-$SDBUILD_BUILD_ID.scope"`)...)
	if r.code != 0 || !strings.Contains(r.stdout, "uid=0") {
		t.Fatalf("nspawn in a rootless build: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The cgroups nspawn made in the build's delegated cgroup, owned by
	// subordinate ids while it ran, are the user's again: the user's
	// manager removes the scope's whole tree.
	_, unit, _ := strings.Cut(r.stdout, "unit ")
	scopeDir := fmt.Sprintf("/sys/fs/cgroup/user.slice/user-%d.slice/user@%d.service/sdbuild.slice/%s", a.uid, a.uid, strings.TrimSpace(unit))
	waitFor(t, "the scope's cgroup tree removed", func() bool {
		_, err := os.Stat(scopeDir)
		return os.IsNotExist(err)
	})
	if p := pidsWithUIDIn(t, rlSubStart, rlSubCount); len(p) > 0 {
		t.Errorf("processes left on the subordinate ids: %v", p)
	}
}

// kill -9 of a user's daemon mid-build: the build dies with its init (its
// parent-death signal, set again after init's exec gained capabilities;
// the builder's processes are checked before the daemon is started
// again), and the daemon, socket-activated again, records
// it as interrupted; the slot's leftover files, owned by subordinate ids,
// are reclaimed before the slot is reused.
func TestRootlessDaemonKilledMidBuild(t *testing.T) {
	rootless(t)
	a := rlUser
	for _, tc := range []struct {
		name  string
		extra []string
	}{
		{"uid-range", []string{"--feature", "uid-range"}},
		// A plain build takes a prepared sandbox, whose directory is
		// named after it: the next daemon removes it, reclaimed.
		{"prepared", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var waiting []string
			if tc.extra == nil {
				waiting = a.readyPrepared(t, 1)
			}
			r := a.sdbuild(t, runArgs(append(tc.extra, "--detach"),
				`mkdir -p /build/d/e; echo x > /build/d/e/f; chmod 0 /build/d; sleep 1000 & sleep 1000`)...)
			if r.code != 0 {
				t.Fatalf("submit: %s%s", r.stdout, r.stderr)
			}
			id := strings.TrimSpace(r.stdout)
			if waiting != nil && !slices.Contains(waiting, id) {
				t.Fatalf("build %s did not take a prepared sandbox (waiting: %v)", id, waiting)
			}
			unit := "sdbuild-" + id + ".scope"
			waitFor(t, "the build's processes", func() bool { return len(pidsWithUIDIn(t, rlSubStart, rlSubCount)) >= 2 })
			killMainPID(t, a.systemctl(t, "show", "-p", "MainPID", "sdbuild.service"))
			waitFor(t, "the build's processes to die", func() bool { return len(pidsWithUIDIn(t, rlSubStart, rlSubCount)) == 0 })
			if b := a.show(t, id); b.Status != api.StatusInterrupted {
				t.Errorf("after kill -9 and restart, build %s is %s, want interrupted", id, b.Status)
			}
			if s := a.systemctl(t, "is-active", unit); s != "inactive" {
				t.Errorf("scope %s %s after restart, want inactive", unit, s)
			}
			// Both slots build again, the dead build's included.
			for range 2 {
				if r := a.sdbuild(t, runArgs([]string{"--feature", "uid-range"}, `true`)...); r.code != 0 {
					t.Errorf("build after restart: %d %s%s", r.code, r.stdout, r.stderr)
				}
			}
			a.noBuildDirsLeft(t, "after builds")
			// The restarted daemon removes it beside its own work.
			dead := filepath.Join(a.home, ".local/state/sdbuild/builds", "prepared-"+id)
			waitFor(t, "the killed build's prepared sandbox directory removed", func() bool {
				_, err := os.Lstat(dead)
				return errors.Is(err, os.ErrNotExist)
			})
		})
	}
}

// outputsRemove deletes a test's output tree, read-only parts included.
func outputsRemove(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	os.RemoveAll(dir)
}

// kill -9 of sdbuild run --local on subordinate ids: nothing restarts or
// recovers anything here, so only init's parent-death signal (set again
// after its exec gained capabilities) ends the build.
func TestRootlessLocalKilled(t *testing.T) {
	rootless(t)
	a := rlUser
	cmd := exec.Command(filepath.Join(binDir, "sdbuild"), append([]string{"run", "--local", "--feature", "uid-range"}, append(inputs, "--", "/bin/sh", "-c", "sleep 1000 & sleep 1000")...)...)
	cmd.Env, cmd.Dir = a.env(), a.home
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: a.uid, Gid: a.uid, Groups: []uint32{}}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the local build's processes", func() bool { return len(pidsWithUIDIn(t, rlSubStart, rlSubCount)) >= 2 })
	cmd.Process.Kill()
	cmd.Wait()
	waitFor(t, "the local build's processes to die with sdbuild", func() bool { return len(pidsWithUIDIn(t, rlSubStart, rlSubCount)) == 0 })
}
