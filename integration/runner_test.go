//go:build integration

package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sdbuild/sdbuild/bbrunner/pb"
	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// These tests play a remote-execution worker as its runner protocol has
// it: a gRPC client on the runner socket (socket-activated), and per
// action a directory <16 hex>/{root,tmp,server_logs} in the shared build
// directory, whose inputs are read-only hard links into a cache on the
// same file system, owned by the worker (root here).

func runnerClient(t *testing.T) pb.RunnerClient {
	t.Helper()
	conn, err := grpc.NewClient("unix://"+runnerSocket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial runner: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewRunnerClient(conn)
}

// workerAction is one action's directory, laid out as a worker does.
type workerAction struct {
	dir   string // <16 hex>, relative to runnerDir
	input string // host path of the cached input, hard-linked into root/in
}

const cachedInput = "cached content\n"

func newWorkerAction(t *testing.T) *workerAction {
	t.Helper()
	var b [8]byte
	rand.Read(b[:])
	a := &workerAction{dir: hex.EncodeToString(b[:])}
	cache := filepath.Join(runnerDir, "cache")
	os.MkdirAll(cache, 0o700)
	a.input = filepath.Join(cache, a.dir)
	if err := os.WriteFile(a.input, []byte(cachedInput), 0o444); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"root/in", "root/out", "tmp", "server_logs"} {
		if err := os.MkdirAll(a.path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(a.input, a.path("root/in/input")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.RemoveAll(a.path(""))
		os.Remove(a.input)
	})
	return a
}

func (a *workerAction) path(rel string) string { return filepath.Join(runnerDir, a.dir, rel) }

func (a *workerAction) request(script string, env map[string]string) *pb.RunRequest {
	if env == nil {
		env = map[string]string{"PATH": "/usr/bin:/bin"}
	}
	return &pb.RunRequest{
		Arguments: []string{"sh", "-c", script}, EnvironmentVariables: env,
		WorkingDirectory: "", StdoutPath: a.dir + "/stdout", StderrPath: a.dir + "/stderr",
		InputRootDirectory: a.dir + "/root", TemporaryDirectory: a.dir + "/tmp",
		ServerLogsDirectory: a.dir + "/server_logs",
	}
}

func (a *workerAction) read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(a.path(rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkInput fails unless the cached input is as the worker left it.
func (a *workerAction) checkInput(t *testing.T) {
	t.Helper()
	st, err := os.Lstat(a.input)
	if err != nil {
		t.Fatal(err)
	}
	s := st.Sys().(*syscall.Stat_t)
	if b, _ := os.ReadFile(a.input); string(b) != cachedInput || st.Mode().Perm() != 0o444 || s.Uid != 0 || s.Gid != 0 {
		t.Errorf("cached input changed: %q, mode %v, owner %d:%d", b, st.Mode(), s.Uid, s.Gid)
	}
}

// scopeUsage is what the build's scope measured, as the runner reports it.
type scopeUsage struct {
	BuildId                             string
	Unit                                string
	Slot                                int32
	CpuUsec, MemoryPeakBytes, TasksPeak uint64
}

func usage(t *testing.T, r *pb.RunResponse) (*pb.POSIXResourceUsage, *scopeUsage) {
	t.Helper()
	posix, st := &pb.POSIXResourceUsage{}, &structpb.Struct{}
	if len(r.ResourceUsage) != 2 {
		t.Fatalf("resource usage: %d entries, want 2", len(r.ResourceUsage))
	}
	if err := r.ResourceUsage[0].UnmarshalTo(posix); err != nil {
		t.Fatalf("resource usage: %v", err)
	}
	if err := r.ResourceUsage[1].UnmarshalTo(st); err != nil {
		t.Fatalf("resource usage: %v", err)
	}
	f := st.AsMap()
	num := func(k string) uint64 { v, _ := f[k].(float64); return uint64(v) }
	id, _ := f["sdbuild_build_id"].(string)
	unit, _ := f["unit"].(string)
	return posix, &scopeUsage{BuildId: id, Unit: unit, Slot: int32(num("slot")),
		CpuUsec: num("cpu_usec"), MemoryPeakBytes: num("memory_peak_bytes"), TasksPeak: num("tasks_peak")}
}

func runAction(t *testing.T, c pb.RunnerClient, req *pb.RunRequest) *pb.RunResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := c.Run(ctx, req)
	if err != nil {
		t.Fatalf("Run %q: %v", req.Arguments, err)
	}
	return r
}

func TestRunnerReadiness(t *testing.T) {
	c := runnerClient(t)
	a := newWorkerAction(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.CheckReadiness(ctx, &pb.CheckReadinessRequest{Path: a.dir + "/root"}); err != nil {
		t.Errorf("CheckReadiness of an existing path: %v", err)
	}
	if _, err := c.CheckReadiness(ctx, &pb.CheckReadinessRequest{Path: a.dir + "/nonexistent"}); err == nil {
		t.Error("CheckReadiness of a missing path: no error")
	}
	os.Symlink("/etc", a.path("escape"))
	if _, err := c.CheckReadiness(ctx, &pb.CheckReadinessRequest{Path: a.dir + "/escape/passwd"}); err == nil {
		t.Error("CheckReadiness through a symlink out of the build directory: no error")
	}
	if _, err := c.CheckReadiness(ctx, &pb.CheckReadinessRequest{Path: "../x"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("CheckReadiness(../x) = %v, want InvalidArgument", err)
	}
}

// An action runs with exactly its environment in its input root, writes
// its outputs, which come back owned by the worker, and cannot change its
// inputs, though it is root in its user namespace (runner-features =
// uid-range in the test daemon) and owns the directories they are in.
func TestRunnerAction(t *testing.T) {
	c := runnerClient(t)
	a := newWorkerAction(t)
	env := map[string]string{"PATH": "/usr/bin:/bin", "ACTION_VAR": "x y"}
	script := `set -u
env | sort > out/env
id -u > out/uid
echo to-stdout; echo to-stderr >&2
# As root of the build: try to change the input every way there is.
# (Each in a subshell: a failed redirection ends a shell.)
(echo overwritten > in/input) 2>/dev/null
(chmod 0666 in/input) 2>/dev/null
(chown 0:0 in/input) 2>/dev/null
(truncate -s 0 in/input) 2>/dev/null
(: > in/input) 2>/dev/null
# Outputs, in the directory the worker made and below.
echo made > out/file; mkdir out/d; echo nested > out/d/f; chmod 0 out/d
# Nothing else of the build directory is there.
ls ../ > out/parent 2>&1
test -e ../stdout && echo SEEN > out/seen
echo tmp > "$TMPDIR_PATH"/t
exit 3`
	req := a.request(script, env)
	req.EnvironmentVariables["TMPDIR_PATH"] = filepath.Join(runnerDir, a.dir, "tmp")
	env["TMPDIR_PATH"] = req.EnvironmentVariables["TMPDIR_PATH"]
	r := runAction(t, c, req)
	if r.ExitCode != 3 {
		t.Errorf("exit code %d, want 3", r.ExitCode)
	}
	if got := a.read(t, "stdout"); got != "to-stdout\n" {
		t.Errorf("stdout = %q", got)
	}
	if got := a.read(t, "stderr"); got != "to-stderr\n" {
		t.Errorf("stderr = %q", got)
	}
	var want []string
	for k, v := range env {
		want = append(want, k+"="+v)
	}
	want = append(want, "PWD="+filepath.Join(runnerDir, a.dir, "root")) // the shell's own
	slices.Sort(want)
	if got := strings.Fields(strings.ReplaceAll(a.read(t, "root/out/env"), " ", "_")); !slices.Equal(got, strings.Fields(strings.ReplaceAll(strings.Join(want, "\n"), " ", "_"))) {
		t.Errorf("environment = %q, want exactly %q", got, want)
	}
	if got := a.read(t, "root/out/uid"); got != "0\n" {
		t.Errorf("uid in the build = %q, want 0 (uid-range)", got)
	}
	a.checkInput(t)
	if _, err := os.Stat(a.path("root/out/seen")); err == nil {
		t.Error("the action saw its stdout file in the build directory")
	}
	if got := a.read(t, "tmp/t"); got != "tmp\n" {
		t.Errorf("temporary directory: %q", got)
	}
	// Everything the action made is the worker's, so that it can upload
	// and delete it.
	for _, rel := range []string{"root/out/file", "root/out/d", "root/out/d/f", "root/out", "root", "tmp/t", "stdout", "stderr"} {
		st, err := os.Lstat(a.path(rel))
		if err != nil {
			t.Fatal(err)
		}
		if s := st.Sys().(*syscall.Stat_t); s.Uid != 0 || s.Gid != 0 {
			t.Errorf("%s: owned by %d:%d after the action, want the worker's 0:0", rel, s.Uid, s.Gid)
		}
	}
	posix, sd := usage(t, r)
	if posix.UserTime == nil || posix.MaximumResidentSetSize <= 0 || posix.TerminationSignal != "" {
		t.Errorf("POSIX resource usage = %v", posix)
	}
	if sd.BuildId == "" || !strings.HasPrefix(sd.Unit, "sdbuild-") || sd.CpuUsec == 0 {
		t.Errorf("sdbuild resource usage = %v", sd)
	}
	// memory.peak and pids.peak exist where cgroup2 has those controllers
	// (not on a cgroup-v1 hybrid host); where it has, they must be filled.
	ctl := sliceControllers(t)
	if slices.Contains(ctl, "memory") != (sd.MemoryPeakBytes > 0) || slices.Contains(ctl, "pids") != (sd.TasksPeak > 0) {
		t.Errorf("sdbuild resource usage = %v with controllers %q in sdbuild.slice", sd, ctl)
	}
	// The journal records the action under the build's unit, with the
	// digest prefix its directory is named after.
	waitFor(t, "the action's journal entry", func() bool {
		out, _ := exec.Command("journalctl", "-o", "cat", "_SYSTEMD_UNIT=sdbuild.service",
			"SDBUILD_ACTION_DIGEST_PREFIX="+a.dir, "OBJECT_SYSTEMD_UNIT="+sd.Unit).Output()
		return strings.Contains(string(out), "remote action "+a.dir)
	})
	// Its output is in the journal under its unit too.
	if logs := sdbuild(t, nil, "logs", sd.BuildId); !strings.Contains(logs.stdout, "to-stdout") || !strings.Contains(logs.stdout, "to-stderr") {
		t.Errorf("sdbuild logs %s: %q %q", sd.BuildId, logs.stdout, logs.stderr)
	}
}

// A worker's timeout cancels the call: the whole scope dies, and the call
// returns only once nothing of the action is left.
func TestRunnerTimeout(t *testing.T) {
	c := runnerClient(t)
	a := newWorkerAction(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, a.request(`sleep 117 & sleep 61 & echo started; wait`, nil))
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("Run past its deadline = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the cancelled call took %s", d)
	}
	// The client's deadline ends its wait; the server answers once the
	// build is gone: wait for the record to be final, then look.
	waitFor(t, "the action's build to end", func() bool {
		r := sdbuild(t, nil, "list", "--json", "--status", "running")
		return !strings.Contains(r.stdout, "action "+a.dir)
	})
	if p := idsInUse(t); len(p) != 0 {
		t.Errorf("processes of the timed-out action: %q", p)
	}
}

// Concurrent calls run at once, on different slots: each action records
// when it ran, and the two spans overlap.
func TestRunnerConcurrent(t *testing.T) {
	c := runnerClient(t)
	var wg sync.WaitGroup
	slots := make([]int32, 2)
	actions := make([]*workerAction, 2)
	for i := range slots {
		a := newWorkerAction(t)
		actions[i] = a
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			r, err := c.Run(ctx, a.request(`date +%s%N > out/start; sleep 2; date +%s%N > out/end`, nil))
			if err != nil {
				t.Errorf("Run: %v", err)
				return
			}
			_, sd := usage(t, r)
			slots[i] = sd.Slot
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if slots[0] == slots[1] {
		t.Errorf("both actions ran on slot %d", slots[0])
	}
	span := func(a *workerAction) (start, end int64) {
		fmt.Sscan(a.read(t, "root/out/start"), &start)
		fmt.Sscan(a.read(t, "root/out/end"), &end)
		return start, end
	}
	s0, e0 := span(actions[0])
	s1, e1 := span(actions[1])
	if s0 >= e1 || s1 >= e0 {
		t.Errorf("the actions ran one after the other: [%d, %d] and [%d, %d]", s0, e0, s1, e1)
	}
}

// Deaths by signal and commands that cannot start are reported as a
// worker expects them.
func TestRunnerExitStatus(t *testing.T) {
	c := runnerClient(t)
	a := newWorkerAction(t)
	r := runAction(t, c, a.request(`kill -9 $$`, nil))
	if posix, _ := usage(t, r); r.ExitCode != -1 || posix.TerminationSignal != "KILL" {
		t.Errorf("killed action: exit %d, signal %q; want -1, KILL", r.ExitCode, posix.TerminationSignal)
	}
	b := newWorkerAction(t)
	req := b.request("", nil)
	req.Arguments = []string{"no-such-command"}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Run(ctx, req); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Run of a missing command = %v, want InvalidArgument", err)
	}
	d := newWorkerAction(t)
	req = d.request("true", nil)
	req.InputRootDirectory = "../" + d.dir
	if _, err := c.Run(ctx, req); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Run with an input root outside the build directory = %v, want InvalidArgument", err)
	}
}

// sliceControllers are the cgroup2 controllers sdbuild.slice has.
func sliceControllers(t *testing.T) []string {
	t.Helper()
	dir, err := cgroup2.Dir("/sdbuild.slice")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}
