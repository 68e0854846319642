package slots

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

func TestSharedOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Options
		ok   bool
	}{
		{"a user's own id", Options{Dir: "/d", StartID: 1000, IDsPerBuild: 1, Slots: 4, Shared: true}, true},
		{"shared with more ids", Options{Dir: "/d", StartID: 1000, IDsPerBuild: 2, Slots: 4, Shared: true}, false},
		{"a low id, not shared", Options{Dir: "/d", StartID: 1000, IDsPerBuild: 1, Slots: 4}, false},
		{"separate gids", Options{Dir: "/d", StartID: 100000, StartGID: 300000, IDsPerBuild: 65536, Slots: 2}, true},
		{"gids past 2^32", Options{Dir: "/d", StartID: 100000, StartGID: 1<<32 - 65536, IDsPerBuild: 65536, Slots: 2}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opt
			if err := o.validate(); (err == nil) != tc.ok {
				t.Fatalf("validate: %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok {
				return
			}
			for slot := range o.Slots {
				uid, gid, count := o.slotRange(slot)
				switch {
				case o.Shared && (uid != o.StartID || gid != o.StartID || count != 1):
					t.Errorf("shared slot %d: %d/%d+%d, want the one id %d", slot, uid, gid, count, o.StartID)
				case !o.Shared && (uid != o.StartID+uint32(slot)*o.IDsPerBuild || gid != o.StartGID+uint32(slot)*o.IDsPerBuild):
					t.Errorf("slot %d: uid %d gid %d", slot, uid, gid)
				}
			}
		})
	}
}

// A shared slot whose holder died is cleared by its record alone: every
// process of the slot's id is the caller's user's, and survives.
func TestSharedSlotClearKillsNothingByID(t *testing.T) {
	testutil.RequireRoot(t, whyRoot)
	const uid = 65534 // a process of "the user", not of any build
	sleeper := exec.Command("sleep", "60")
	sleeper.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { sleeper.Wait(); close(exited) }()
	defer func() { sleeper.Process.Kill(); <-exited }()

	opt := Options{Dir: t.TempDir() + "/userpool", StartID: uid, IDsPerBuild: 1, Slots: 1, Shared: true, KillTimeout: time.Second}
	p := mustOpen(t, opt)
	// The record of a holder that died without releasing.
	b, err := encodeRecord(Record{BuildID: "dead", State: StateHeld, Since: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(LockPath(opt.Dir, 0), b, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := p.Acquire("next")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if l.FirstID != uid || l.Count != 1 {
		t.Errorf("lease %d+%d, want %d+1", l.FirstID, l.Count, uid)
	}
	select {
	case <-exited:
		t.Errorf("clearing a shared slot killed pid %d of uid %d: %v", sleeper.Process.Pid, uid, sleeper.ProcessState)
	case <-time.After(100 * time.Millisecond): // a SIGKILL is reaped well within this
	}
}
