package slots

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
	"github.com/sdbuild/sdbuild/internal/testutil"
	"golang.org/x/sys/unix"
)

// sleeper is a `sleep 300` started by the test, watched through a pidfd.
type sleeper struct {
	cmd   *exec.Cmd
	pidfd int
}

func startSleeper(t *testing.T, attr *syscall.SysProcAttr) *sleeper {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	cmd.Dir = "/"
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	fd, err := unix.PidfdOpen(cmd.Process.Pid, 0)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("pidfd_open %d: %v", cmd.Process.Pid, err)
	}
	s := &sleeper{cmd: cmd, pidfd: fd}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		unix.Close(fd)
	})
	return s
}

func (s *sleeper) pid() int { return s.cmd.Process.Pid }

// exited reports, without waiting, whether the sleeper is dead. Acquire
// waits for what it kills, so right after it returns this is settled.
func (s *sleeper) exited() bool { return exited(s.pidfd) }

// asIDs runs a process with the given uid and gid and no supplementary groups.
func asIDs(uid, gid uint32) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid, NoSetGroups: true}}
}

func writeSlotFile(t *testing.T, dir string, slot int, content string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(LockPath(dir, slot), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func recordText(t *testing.T, r Record) string {
	b, err := encodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Clearing kills exactly the processes with an id in the slot's range,
// whatever the record says.
func TestAcquireClearsStaleSlot(t *testing.T) {
	testutil.RequireRoot(t, whyRoot)
	held := recordText(t, Record{BuildID: "crashed", State: StateHeld})
	released := recordText(t, Record{BuildID: "done", State: StateReleased})
	in := uint32(testStartID + 7)
	nextSlot := uint32(testStartID + 65536) // first id of slot 1
	tests := []struct {
		name       string
		record     string
		attr       *syscall.SysProcAttr
		wantKilled bool
	}{
		{"held record, uid in range", held, asIDs(in, in), true},
		{"held record, only gid in range", held, asIDs(0, in), true},
		{"held record, only uid in range", held, asIDs(in, 0), true},
		{"unparsable record, uid in range", "{\"build_id\":\"x\",\"sta", asIDs(in, in), true},
		{"held record, ids of the next slot", held, asIDs(nextSlot, nextSlot), false},
		// A clean release clears the range too: the ids may have been
		// taken up since (TestAcquireKillsEveryHolderOfSlotIDs).
		{"released record, uid in range", released, asIDs(in, in), true},
		{"empty file, uid in range", "", asIDs(in, in), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := testOptions(t, 2)
			writeSlotFile(t, opt.Dir, 0, tt.record)
			s := startSleeper(t, tt.attr)
			p := mustOpen(t, opt)
			l, err := p.Acquire("new")
			if err != nil || l.Slot != 0 {
				t.Fatalf("Acquire = %v, %v; want slot 0", l, err)
			}
			if got := s.exited(); got != tt.wantKilled {
				t.Errorf("sleep pid %d killed = %v, want %v", s.pid(), got, tt.wantKilled)
			}
			if tt.wantKilled && s.exited() {
				err := s.cmd.Wait()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Errorf("sleep ended with %v, want SIGKILL", err)
				}
			}
		})
	}
}

// The recorded init pid is killed only while its start time matches: a
// recycled pid belongs to someone else. The sleeper runs as root, outside
// the range, so only the pid step could kill it.
func TestAcquireKillsInitOnlyIfStartTimeMatches(t *testing.T) {
	testutil.RequireRoot(t, whyRoot)
	tests := []struct {
		name       string
		startDelta uint64
		wantKilled bool
	}{
		{"start time matches", 0, true},
		{"start time differs (recycled pid)", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSleeper(t, nil)
			start, err := pidStartTime(s.pid())
			if err != nil {
				t.Fatal(err)
			}
			opt := testOptions(t, 1)
			writeSlotFile(t, opt.Dir, 0, recordText(t, Record{BuildID: "crashed", State: StateHeld, PID: s.pid(), PIDStart: start + tt.startDelta}))
			l, err := mustOpen(t, opt).Acquire("new")
			if err != nil || l.Slot != 0 {
				t.Fatalf("Acquire = %v, %v; want slot 0", l, err)
			}
			if got := s.exited(); got != tt.wantKilled {
				t.Errorf("recorded init pid %d killed = %v, want %v", s.pid(), got, tt.wantKilled)
			}
		})
	}
}

// A recorded cgroup is killed through cgroup.kill; one that no longer
// exists is skipped without error.
func TestAcquireKillsRecordedCgroup(t *testing.T) {
	testutil.RequireRoot(t, whyRoot)
	root, ok, err := cgroup2Root()
	if err != nil || !ok {
		t.Skipf("no cgroup2 mount to test cgroup.kill in (%v)", err)
	}
	rel := fmt.Sprintf("/sdbuild-slots-test-%d", os.Getpid())
	dir := filepath.Join(root, rel)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	cgfd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(cgfd)
	// Root-owned and outside the range: only cgroup.kill reaches it.
	s := startSleeper(t, &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cgfd})

	opt := testOptions(t, 2)
	writeSlotFile(t, opt.Dir, 0, recordText(t, Record{BuildID: "crashed", State: StateHeld, Cgroup: rel}))
	writeSlotFile(t, opt.Dir, 1, recordText(t, Record{BuildID: "crashed", State: StateHeld, Cgroup: rel + "/gone.scope"}))
	p := mustOpen(t, opt)
	l0, err := p.Acquire("new")
	if err != nil || l0.Slot != 0 {
		t.Fatalf("Acquire = %v, %v; want slot 0", l0, err)
	}
	if !s.exited() {
		t.Errorf("sleep pid %d in recorded cgroup %s survived Acquire", s.pid(), rel)
	}
	l1, err := p.Acquire("new")
	if err != nil || l1.Slot != 1 {
		t.Fatalf("Acquire of a slot whose cgroup is gone = %v, %v; want slot 1", l1, err)
	}
}

// A record naming a cgroup that contains this process (here its parent)
// must not make Acquire kill it: the slot is quarantined instead.
func TestAcquireRefusesOwnCgroup(t *testing.T) {
	testutil.RequireRoot(t, whyRoot)
	root, ok, err := cgroup2Root()
	if err != nil || !ok {
		t.Skipf("no cgroup2 mount to test cgroup.kill in (%v)", err)
	}
	orig, err := cgroup2.Own("self")
	if err != nil {
		t.Fatal(err)
	}
	parent := fmt.Sprintf("/sdbuild-slots-test-own-%d", os.Getpid())
	child := parent + "/self"
	if err := os.MkdirAll(filepath.Join(root, child), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Remove(filepath.Join(root, child))
		os.Remove(filepath.Join(root, parent))
	})
	move := func(cg string) {
		if err := os.WriteFile(filepath.Join(root, cg, "cgroup.procs"), []byte(fmt.Sprint(os.Getpid())), 0); err != nil {
			t.Fatalf("move test process to cgroup %s: %v", cg, err)
		}
	}
	move(child)
	t.Cleanup(func() { move(orig) })

	opt := testOptions(t, 1)
	writeSlotFile(t, opt.Dir, 0, recordText(t, Record{BuildID: "crashed", State: StateHeld, Cgroup: parent}))
	p := mustOpen(t, opt)
	if _, err := p.Acquire("new"); !errors.Is(err, ErrNoFreeSlot) {
		t.Fatalf("Acquire = %v, want ErrNoFreeSlot", err)
	}
	if q := p.Quarantined(); len(q) != 1 || !strings.Contains(q[0].Reason, errSelfCgroup.Error()) {
		t.Errorf("Quarantined() = %+v, want slot 0 refused for naming our own cgroup", q)
	}
}
