package slots

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/sdbuild/sdbuild/internal/testutil"
	"golang.org/x/sys/unix"
)

// idHolderEnv makes the test binary a process that holds one id in one
// way, "<how> <id>" (see holdID), without being any build's.
const idHolderEnv = "SDBUILD_SLOTS_TEST_IDHOLDER"

func init() {
	v := os.Getenv(idHolderEnv)
	if v == "" {
		return
	}
	// Package init runs on the main thread, the thread-group leader, and
	// stays there once locked: the leader's ways change that thread.
	runtime.LockOSThread()
	os.Exit(holdID(v))
}

// holdID takes up id in the named way with raw syscalls, which change only
// the calling thread (glibc and Go's wrappers would change every thread),
// prints "holding" and waits for stdin to close. The process stays root in
// every other respect, so only that one id puts it in a slot's range.
func holdID(v string) int {
	i := strings.LastIndexByte(v, ' ')
	how, idText := v[:max(i, 0)], v[i+1:]
	id, err := strconv.ParseUint(idText, 10, 32)
	if err != nil {
		fmt.Println("error: id:", err)
		return 1
	}
	onThread := strings.TrimPrefix(how, "thread ")
	take := func() error {
		var nr, a1, a2, a3 uintptr
		switch onThread {
		case "suid":
			nr, a1, a2, a3 = unix.SYS_SETRESUID, 0, 0, uintptr(id)
		case "fsuid":
			nr, a1 = unix.SYS_SETFSUID, uintptr(id)
		case "egid":
			nr, a1, a2, a3 = unix.SYS_SETRESGID, 0, uintptr(id), 0
		case "fsgid":
			nr, a1 = unix.SYS_SETFSGID, uintptr(id)
		case "group":
			g := uint32(id)
			nr, a1, a2 = unix.SYS_SETGROUPS, 1, uintptr(unsafe.Pointer(&g))
		default:
			return fmt.Errorf("unknown way %q", how)
		}
		if _, _, e := unix.RawSyscall(nr, a1, a2, a3); e != 0 {
			return e
		}
		// setfsuid reports no error: read back what this thread holds.
		b, err := os.ReadFile("/proc/thread-self/status")
		if err != nil {
			return err
		}
		ids, err := parseStatus(b)
		if err != nil {
			return err
		}
		if !ids.inRange(slotIDs{uids: idRange{uint32(id), 1}, gids: idRange{uint32(id), 1}}) {
			return fmt.Errorf("thread holds %+v after %s %d", ids, how, id)
		}
		return nil
	}
	if onThread == how {
		err = take()
	} else {
		done := make(chan error)
		go func() {
			// Locked and never unlocked: the thread keeps its ids until
			// the process ends.
			runtime.LockOSThread()
			if unix.Gettid() == unix.Getpid() {
				done <- errors.New("goroutine runs on the leader thread")
				return
			}
			done <- take()
			select {}
		}()
		err = <-done
	}
	if err != nil {
		fmt.Printf("error: %s %d: %v\n", how, id, err)
		return 1
	}
	fmt.Println("holding")
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// startIDHolder starts holdID as another process and waits for its
// "holding" line, which it prints only once the id is held; if it fails
// instead, its output ends and the test fails with what it said.
func startIDHolder(t *testing.T, how string, id uint32) *sleeper {
	t.Helper()
	h := testutil.StartHelper(t, fmt.Sprintf("%s=%s %d", idHolderEnv, how, id))
	cmd := h.Cmd
	line, _ := h.Stdout.ReadString('\n')
	if line != "holding\n" {
		t.Fatalf("id holder (%s %d) said %q, want \"holding\"", how, id, line)
	}
	fd, err := unix.PidfdOpen(cmd.Process.Pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open %d: %v", cmd.Process.Pid, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return &sleeper{cmd: cmd, pidfd: fd}
}

// A process outside any build that holds an id of a slot in any way is
// dead before Acquire hands the slot out, however cleanly the slot was
// released: it could signal, ptrace or rewrite the next build.
func TestAcquireKillsEveryHolderOfSlotIDs(t *testing.T) {
	testutil.RequireRoot(t, whyRoot)
	released := recordText(t, Record{BuildID: "done", State: StateReleased})
	first := uint32(testStartID)
	last := uint32(testStartID + 65535)
	sleeperWith := func(attr *syscall.SysProcAttr) func(t *testing.T) *sleeper {
		return func(t *testing.T) *sleeper { return startSleeper(t, attr) }
	}
	holderWith := func(how string, id uint32) func(t *testing.T) *sleeper {
		return func(t *testing.T) *sleeper { return startIDHolder(t, how, id) }
	}
	tests := []struct {
		name   string
		record string
		start  func(t *testing.T) *sleeper
	}{
		{"the slot's first uid, never leased", "", sleeperWith(asIDs(first, 0))},
		{"the slot's first uid, released", released, sleeperWith(asIDs(first, 0))},
		{"the slot's last gid, released", released, sleeperWith(asIDs(0, last))},
		{"saved uid only", released, holderWith("suid", first)},
		{"fs uid only", released, holderWith("fsuid", first)},
		{"effective gid only", released, holderWith("egid", first)},
		{"fs gid only", released, holderWith("fsgid", first)},
		{"supplementary group only", released, holderWith("group", first)},
		{"fs uid of a thread other than the leader", released, holderWith("thread fsuid", first)},
		{"saved uid of a thread other than the leader", released, holderWith("thread suid", last)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := testOptions(t, 2)
			if tt.record != "" {
				writeSlotFile(t, opt.Dir, 0, tt.record)
			}
			s := tt.start(t)
			l, err := mustOpen(t, opt).Acquire("new")
			if err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			defer l.Release()
			if l.Slot == 0 && !s.exited() {
				t.Fatalf("Acquire leased slot 0 with pid %d still holding one of its ids", s.pid())
			}
			if l.Slot != 0 {
				t.Errorf("Acquire leased slot %d, want slot 0 with pid %d killed", l.Slot, s.pid())
			}
		})
	}
}

// A holder of a cleanly released slot's ids that survives SIGKILL
// quarantines the slot, and the log says so.
func TestQuarantineHolderOfReleasedSlot(t *testing.T) {
	testutil.RequireRoot(t, whyRoot)
	fz := frozenCgroup(t)
	s := startSleeper(t, asIDs(testStartID, testStartID))
	if err := os.WriteFile(filepath.Join(fz, "cgroup.procs"), []byte(fmt.Sprint(s.pid())), 0); err != nil {
		t.Fatalf("move sleep into freezer cgroup: %v", err)
	}
	setFreezer(t, fz, "FROZEN")
	t.Cleanup(func() { setFreezer(t, fz, "THAWED") })

	opt := testOptions(t, 1)
	opt.KillTimeout = 100 * time.Millisecond
	var log bytes.Buffer
	opt.Log = slog.New(slog.NewTextHandler(&log, nil))
	writeSlotFile(t, opt.Dir, 0, recordText(t, Record{BuildID: "done", State: StateReleased}))
	p := mustOpen(t, opt)
	if _, err := p.Acquire("new"); !errors.Is(err, ErrNoFreeSlot) {
		t.Fatalf("Acquire = %v, want ErrNoFreeSlot", err)
	}
	reason := fmt.Sprintf("pid %d survived SIGKILL for 100ms", s.pid())
	if q := p.Quarantined(); len(q) != 1 || q[0].Slot != 0 || q[0].Reason != reason {
		t.Errorf("Quarantined() = %+v, want slot 0: %s", q, reason)
	}
	rec, err := ReadRecord(LockPath(opt.Dir, 0))
	if err != nil || rec.State != StateHeld || rec.Quarantine != reason {
		t.Errorf("record = %+v, %v; want held with quarantine %q", rec, err, reason)
	}
	for _, want := range []string{"level=WARN msg=\"killed processes holding a slot's ids\" slot=0", "level=ERROR msg=\"slot quarantined", reason} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

// A range that holds this process's own ids is a configuration error,
// found by the scan and never acted on: the scan does not kill its caller.
func TestScanRefusesOwnRange(t *testing.T) {
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	for _, r := range []slotIDs{
		{uids: idRange{uid, 1}, gids: idRange{0xE0F00000, 1}},
		{uids: idRange{0xE0F00000, 1}, gids: idRange{gid, 1}},
	} {
		found, err := scanRange(r, nil)
		closeProcs(found)
		if !errors.Is(err, errSelfInRange) {
			t.Errorf("scan of %s, which holds this process's ids: %v, want %v", r, err, errSelfInRange)
		}
	}
}

// Of a process Options.OwnCode names, the scan reads only the leader: a
// thread's id it does not see; the leader's it does, and reports the
// process like any other.
func TestScanReadsOwnCodeByLeader(t *testing.T) {
	testutil.RequireRoot(t, "holders take up ids with setfsuid and setfsgid")
	const id = 0xE0F10000
	r := slotIDs{uids: idRange{id, 1}, gids: idRange{id, 1}}
	thread := startIDHolder(t, "thread fsuid", id)
	leader := startIDHolder(t, "fsgid", id)
	own := func(pid int) bool { return pid == thread.cmd.Process.Pid || pid == leader.cmd.Process.Pid }
	pids := func(own func(int) bool) []int {
		found, err := scanRange(r, own)
		if err != nil {
			t.Fatal(err)
		}
		defer closeProcs(found)
		return pidsOf(found)
	}
	if got := pids(nil); !slices.Contains(got, thread.cmd.Process.Pid) || !slices.Contains(got, leader.cmd.Process.Pid) {
		t.Errorf("scan without OwnCode found %v, want both holders %d and %d", got, thread.cmd.Process.Pid, leader.cmd.Process.Pid)
	}
	if got := pids(own); slices.Contains(got, thread.cmd.Process.Pid) || !slices.Contains(got, leader.cmd.Process.Pid) {
		t.Errorf("scan with both as OwnCode found %v, want the leader holder %d alone", got, leader.cmd.Process.Pid)
	}
}
