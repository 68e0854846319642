package slots

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// holder is a second process, the test binary re-executed, holding a slot.
type holder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	slot  int
}

func startHolder(t *testing.T, opt Options) *holder {
	t.Helper()
	p := testutil.StartHelper(t, helperEnv+"="+opt.Dir, fmt.Sprintf("%s_SLOTS=%d", helperEnv, opt.Slots))
	line, err := p.Stdout.ReadString('\n')
	h := &holder{cmd: p.Cmd, stdin: p.Stdin}
	if _, serr := fmt.Sscanf(line, "slot %d", &h.slot); err != nil || serr != nil {
		t.Fatalf("holder process said %q (%v), want \"slot N\"", line, err)
	}
	return h
}

func TestSlotHeldByAnotherProcess(t *testing.T) {
	opt := testOptions(t, 2)
	h := startHolder(t, opt)
	if h.slot != 0 {
		t.Fatalf("holder got slot %d, want 0", h.slot)
	}
	p := mustOpen(t, opt)
	l, err := p.Acquire("here")
	if err != nil || l.Slot != 1 {
		t.Fatalf("Acquire beside another process's lease = %v, %v; want slot 1", l, err)
	}
	if _, err := p.Acquire("more"); !errors.Is(err, ErrNoFreeSlot) {
		t.Fatalf("Acquire with both slots held = %v, want ErrNoFreeSlot", err)
	}
	// The holder lets go when its stdin closes.
	h.stdin.Close()
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("holder process: %v", err)
	}
	l2, err := p.Acquire("after")
	if err != nil || l2.Slot != 0 {
		t.Fatalf("Acquire after the other process released = %v, %v; want slot 0", l2, err)
	}
}

// A holder that dies without releasing leaves a held record naming it; the
// next Acquire clears the slot and takes it over.
func TestSlotOfCrashedProcess(t *testing.T) {
	opt := testOptions(t, 1)
	h := startHolder(t, opt)
	p := mustOpen(t, opt)
	if _, err := p.Acquire("early"); !errors.Is(err, ErrNoFreeSlot) {
		t.Fatalf("Acquire while the other process holds the only slot = %v, want ErrNoFreeSlot", err)
	}
	h.cmd.Process.Signal(syscall.SIGKILL)
	h.cmd.Wait()
	rec, err := ReadRecord(LockPath(opt.Dir, 0))
	if err != nil || rec.State != StateHeld || rec.BuildID != "helper" || rec.PID != h.cmd.Process.Pid || rec.PIDStart == 0 {
		t.Fatalf("record left by the killed holder = %+v, %v; want held by helper pid %d", rec, err, h.cmd.Process.Pid)
	}
	l, err := p.Acquire("next")
	if err != nil || l.Slot != 0 {
		t.Fatalf("Acquire after the holder died = %v, %v; want slot 0", l, err)
	}
	rec, err = ReadRecord(LockPath(opt.Dir, 0))
	if err != nil || rec.BuildID != "next" || rec.State != StateHeld || rec.PID != 0 || strings.Contains(rec.Unit, "helper") {
		t.Errorf("record after takeover = %+v, %v; want a fresh held record for next", rec, err)
	}
}
