package slots

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
)

// testStartID is where test ranges begin: real builds use 2013265920 and up,
// but never ids at or above 0xE0000000, so tests cannot touch them.
const testStartID = 0xE0000000

// helperEnv switches the test binary into a second slot-holding process.
const helperEnv = "SDBUILD_SLOTS_TEST_HELPER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(holdSlot(dir))
	}
	if dir := os.Getenv(containerEnv); dir != "" {
		os.Exit(openInContainer(dir))
	}
	if n, err := strconv.Atoi(os.Getenv(idleThreadsEnv)); err == nil {
		os.Exit(idleThreads(n))
	}
	os.Exit(m.Run())
}

// holdSlot is the helper process: it leases a slot in dir, records itself as
// the holder, prints "slot N", and releases when its stdin closes.
func holdSlot(dir string) int {
	n, _ := strconv.Atoi(os.Getenv(helperEnv + "_SLOTS"))
	p, err := Open(Options{Dir: dir, StartID: testStartID, IDsPerBuild: 65536, Slots: n})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	l, err := p.Acquire("helper")
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	if err := l.SetHolder(Holder{PID: os.Getpid(), Unit: "sdbuild-helper.scope"}); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Printf("slot %d\n", l.Slot)
	io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	// This process is the recorded init and still alive, so Release keeps
	// the record held; the lock goes either way.
	l.Release()
	return 0
}

// whyRoot is why the slot tests that skip without root need it.
const whyRoot = "runs processes as other uids and writes cgroup files"

// testOptions returns options for a pool of n slots in a fresh directory.
func testOptions(t testing.TB, n int) Options {
	return Options{Dir: t.TempDir() + "/userpool", StartID: testStartID, IDsPerBuild: 65536, Slots: n}
}

func mustOpen(t testing.TB, opt Options) *Pool {
	t.Helper()
	p, err := Open(opt)
	if err != nil {
		t.Fatalf("Open(%+v): %v", opt, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
