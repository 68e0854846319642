package sandbox

import (
	"fmt"
	"os"
	"testing"
)

// A sandbox's init counts as this process's own from its start until it
// is reaped, and not after: the slot scan reads such a process by its
// leader alone, which is right only while the pid is init's.
func TestIsInitWhileLive(t *testing.T) {
	s := newSpec(t, `true`)
	p := startSpec(t, s)
	pid := p.PID()
	if !IsInit(pid) {
		t.Errorf("IsInit(%d) = false while init runs", pid)
	}
	// ps and systemctl status name init by its stage, however it was
	// executed (through an open file, its name would be the file's number).
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err != nil || string(comm) != "sdbuild-init\n" {
		t.Errorf("init's /proc/%d/comm = %q, %v; want %q", pid, comm, err, "sdbuild-init\n")
	}
	if err := p.Go(); err != nil {
		t.Fatalf("Go: %v", err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if IsInit(pid) {
		t.Errorf("IsInit(%d) = true after init was reaped", pid)
	}
	if IsInit(1) {
		t.Error("IsInit(1) = true: pid 1 is no init of ours")
	}
}
