package slots

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
	"golang.org/x/sys/unix"
)

// BenchmarkAcquireRelease measures the common path: a slot with a clean
// record is leased and released (open, flock, read, two record writes,
// close).
func BenchmarkAcquireRelease(b *testing.B) {
	dirs := map[string]string{"dir=tempdir": b.TempDir()}
	// tmpfs shows what the temp dir's file system itself costs.
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "sdbuild-slots-bench-")
		if err == nil {
			b.Cleanup(func() { os.RemoveAll(d) })
			dirs["dir=tmpfs"] = d
		}
	}
	for name, dir := range dirs {
		b.Run(name, func(b *testing.B) {
			p, err := Open(Options{Dir: dir + "/userpool", StartID: testStartID, IDsPerBuild: 65536, Slots: 128})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			b.ReportAllocs()
			for b.Loop() {
				l, err := p.Acquire("bench")
				if err != nil {
					b.Fatal(err)
				}
				if err := l.Release(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAcquireReleaseParallel has many goroutines lease and release at
// once, as a daemon running parallel builds does.
func BenchmarkAcquireReleaseParallel(b *testing.B) {
	p, err := Open(Options{Dir: b.TempDir() + "/userpool", StartID: testStartID, IDsPerBuild: 65536, Slots: 128})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l, err := p.Acquire("bench")
			if err != nil {
				b.Error(err)
				return
			}
			if err := l.Release(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// idleThreadsEnv makes the test binary a process of n idle threads, for
// BenchmarkScanRange: it prints "ready" and waits for stdin to close.
const idleThreadsEnv = "SDBUILD_SLOTS_TEST_IDLE_THREADS"

func idleThreads(n int) int {
	for range n - 1 {
		go func() {
			runtime.LockOSThread() // a thread of its own, parked for good
			select {}
		}()
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// startIdle starts procs processes of threads threads each (sleep(1) when
// threads is 1), none with an id in any test range, and returns once all
// of them run.
func startIdle(b *testing.B, procs, threads int) {
	b.Helper()
	for range procs {
		cmd := exec.Command("sleep", "3600")
		var stdout io.Reader
		if threads > 1 {
			cmd = exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", idleThreadsEnv, threads))
			if _, err := cmd.StdinPipe(); err != nil {
				b.Fatal(err)
			}
			var err error
			if stdout, err = cmd.StdoutPipe(); err != nil {
				b.Fatal(err)
			}
		}
		if err := cmd.Start(); err != nil {
			b.Fatalf("start idle process: %v", err)
		}
		b.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
		if stdout != nil {
			if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
				b.Fatalf("idle process said %q, want \"ready\"", line)
			}
		}
	}
}

// BenchmarkScanRange is the per-build cost of looking for holders of a
// slot's ids: one scan that finds none, the common case. Sub-benchmarks
// add idle processes, and processes with many threads, to this host's.
func BenchmarkScanRange(b *testing.B) {
	r := slotIDs{uids: idRange{testStartID, 65536}, gids: idRange{testStartID, 65536}}
	for _, bc := range []struct {
		name           string
		procs, threads int
	}{
		{"host", 0, 0},
		{"host+1000procs", 1000, 1},
		{"host+100procsx10threads", 100, 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			startIdle(b, bc.procs, bc.threads)
			n, tasks := countTasks(b)
			for b.Loop() {
				found, err := scanRange(r, nil)
				if err != nil || len(found) > 0 {
					b.Fatalf("scanRange(%v) = %d processes, %v; want none", r, len(found), err)
				}
			}
			// After the loop: b.Loop's first call resets reported metrics.
			b.ReportMetric(float64(n), "procs")
			b.ReportMetric(float64(tasks), "threads")
		})
	}
}

func countTasks(b *testing.B) (procs, threads int) {
	names, err := readNames("/proc")
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range names {
		if _, err := strconv.Atoi(name); err != nil {
			continue
		}
		procs++
		if tids, err := readNames("/proc/" + name + "/task"); err == nil {
			threads += len(tids)
		}
	}
	return procs, threads
}

// BenchmarkKillAllPerUID measures the alternative to scanning that was
// not taken: a thread that becomes each uid of a slot in turn and calls
// kill(-1, sig). Signal 0 does the same walk and permission checks as
// SIGKILL without sending anything. It reaches only processes whose real
// or saved uid is the thread's (so no gid, fs uid or effective-only uid),
// and costs one walk of every process per uid.
func BenchmarkKillAllPerUID(b *testing.B) {
	testutil.RequireRoot(b, "changes uid with setresuid")
	startIdle(b, 1000, 1)
	for b.Loop() {
		done := make(chan error)
		go func() {
			// The thread's credentials change: it is never unlocked, so
			// it ends with the goroutine.
			runtime.LockOSThread()
			for u := uintptr(testStartID); u < testStartID+65536; u++ {
				// The saved uid stays 0, so the thread can become root again.
				if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, u, u, 0); e != 0 {
					done <- e
					return
				}
				unix.RawSyscall(unix.SYS_KILL, ^uintptr(0), 0, 0)
				if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, 0, 0, 0); e != 0 {
					done <- e
					return
				}
			}
			done <- nil
		}()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}
