//go:build integration

package integration

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// startSleeper starts a detached build that sleeps, and returns its id
// once its builder runs.
func startSleeper(t *testing.T, extra ...string) string {
	t.Helper()
	before := len(idsInUse(t))
	r := sdbuild(t, nil, runArgs(append([]string{"--detach"}, extra...), `sleep 1000`)...)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" {
		t.Fatalf("run --detach: %d %q %q", r.code, r.stdout, r.stderr)
	}
	t.Cleanup(func() { sdbuild(t, nil, "cancel", id) })
	waitFor(t, "the build's builder", func() bool { return len(idsInUse(t)) > before })
	return id
}

// sessionLeaves lists the enter sessions' cgroups in build id's scope.
func sessionLeaves(t *testing.T, id string) []string {
	t.Helper()
	dir, err := cgroup2.Dir("/sdbuild.slice/sdbuild-" + id + ".scope")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := filepath.Glob(filepath.Join(dir, "sdbuild-enter-*"))
	return m
}

// startEnter starts `sdbuild enter` in the background and waits until the
// entered command has printed its first line, "ready".
func startEnter(t *testing.T, args ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	return startCLI(t, "ready\n", nil, args...)
}

// startCLI starts sdbuild with args in the background, its stderr to
// stderr (nil: none), and waits until it has printed first on stdout; the
// test's end kills it if it still runs.
func startCLI(t *testing.T, first string, stderr io.Writer, args ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "sdbuild"), args...)
	cmd.Env = []string{"SDBUILD_SOCKET=" + socket, "PATH=/usr/bin:/bin"}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	br := bufio.NewReader(out)
	line, err := br.ReadString('\n')
	if err != nil || line != first {
		t.Fatalf("sdbuild %q: first line %q, %v; want %q", args, line, err, first)
	}
	return cmd, br
}

func TestEnterNoTTY(t *testing.T) {
	id := startSleeper(t)
	hostMnt, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	// ls lists the shell's fds straight to the shell's stdout (-m: on one
	// line): in a pipeline the shell itself would hold the pipe's read end
	// until it had started the last command, and ls might look before that;
	// for a redirection dash keeps a copy of the fd it replaces.
	r := sdbuild(t, nil, "enter", id, "--", "/bin/sh", "-c",
		`id -u; id -g; hostname; tr "\0" " " < /proc/1/cmdline; echo; readlink /proc/self/ns/mnt; pwd; `+
			`tr "\0" "\n" < /proc/$$/environ | sort; ls -m /proc/$$/fd; grep ^0:: /proc/$$/cgroup; echo err >&2`)
	if r.code != 0 {
		t.Fatalf("enter: %d %q %q", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(r.stdout, "\n")
	if len(lines) < 13 {
		t.Fatalf("enter printed %q", r.stdout)
	}
	want := []string{"1000", "100", "localhost"}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q (uid, gid, hostname)", i, lines[i], w)
		}
	}
	if !strings.HasPrefix(lines[3], "sdbuild-sandbox-init") {
		t.Errorf("/proc/1/cmdline = %q, want the sandbox's init", lines[3])
	}
	if !strings.HasPrefix(lines[4], "mnt:[") || lines[4] == hostMnt {
		t.Errorf("mount namespace %q, want one other than the host's %q", lines[4], hostMnt)
	}
	if lines[5] != "/build" {
		t.Errorf("working directory %q, want /build", lines[5])
	}
	env := strings.Join(lines[6:9], " ")
	if want := "HOME=/homeless-shelter PATH=/usr/bin:/bin:/usr/sbin:/sbin SDBUILD_BUILD_ID=" + id; env != want {
		t.Errorf("environment %q, want %q", env, want)
	}
	if lines[9] != "0, 1, 2" {
		t.Errorf("open fds %q, want only 0 1 2", lines[9])
	}
	if !strings.HasPrefix(lines[10], "0::/sdbuild-enter-") {
		t.Errorf("cgroup %q, want a session cgroup in the build's scope (the root of its cgroup namespace)", lines[10])
	}
	if lines[11] != "err" {
		t.Errorf("stderr line %q, want it merged into stdout", lines[11])
	}

	if r := sdbuild(t, nil, "enter", id, "--", "/bin/sh", "-c", "exit 3"); r.code != 3 {
		t.Errorf("enter exit 3: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := sdbuild(t, nil, "enter", id, "--", "/no/such"); r.code != 127 {
		t.Errorf("enter /no/such: %d %q %q, want 127", r.code, r.stdout, r.stderr)
	}

	// stdin reaches the command; its end is the command's end of input.
	cmd := exec.Command(filepath.Join(binDir, "sdbuild"), "enter", id, "--", "/bin/sh", "-c", "tr a-z A-Z; echo end")
	cmd.Env = []string{"SDBUILD_SOCKET=" + socket}
	cmd.Stdin = strings.NewReader("hello\n")
	if out, err := cmd.Output(); err != nil || string(out) != "HELLO\nend\n" {
		t.Errorf("enter with stdin: %q, %v", out, err)
	}
	if l := sessionLeaves(t, id); len(l) != 0 {
		t.Errorf("session cgroups left after the sessions ended: %q", l)
	}
}

func TestEnterUIDRange(t *testing.T) {
	id := startSleeper(t, "--feature", "uid-range")
	r := sdbuild(t, nil, "enter", id, "--", "/bin/sh", "-c", `id -u; id -g; head -1 /proc/self/uid_map`)
	f := strings.Fields(r.stdout)
	if r.code != 0 || len(f) != 5 || f[0] != "0" || f[1] != "0" || f[2] != "0" || f[4] != "65536" {
		t.Errorf("enter a uid-range build: %d %q %q, want root over the slot's 65536 ids", r.code, r.stdout, r.stderr)
	}
}

func TestEnterRefused(t *testing.T) {
	id := startSleeper(t)
	r := sdbuild(t, nobody, "enter", id, "--", "/bin/true")
	if want := "user nobody may not enter builds: only root and trusted-users may (trusted-users = root)"; r.code != 125 || !strings.Contains(r.stderr, want) {
		t.Errorf("enter as nobody: %d %q, want 125 and %q", r.code, r.stderr, want)
	}
	r = sdbuild(t, nil, "enter", "000000000000", "--", "/bin/true")
	if r.code != 125 || !strings.Contains(r.stderr, "no such build") {
		t.Errorf("enter an unknown build: %d %q", r.code, r.stderr)
	}
	r = sdbuild(t, nil, runArgs([]string{"--detach"}, `true`)...)
	done := strings.TrimSpace(r.stdout)
	waitFor(t, "the build to finish", func() bool { return show(t, done).Status == api.StatusSucceeded })
	r = sdbuild(t, nil, "enter", done, "--", "/bin/true")
	if want := "build " + done + " is succeeded, not running: only a running build can be entered"; r.code != 125 || !strings.Contains(r.stderr, want) {
		t.Errorf("enter a finished build: %d %q, want %q", r.code, r.stderr, want)
	}
}

// The entered command is in the build's scope: cancelling the build ends
// it too, and the client reports how.
func TestEnterEndsWithBuild(t *testing.T) {
	id := startSleeper(t)
	cmd, _ := startEnter(t, "enter", id, "--", "/bin/sh", "-c", "echo ready; exec sleep 1000")
	if l := sessionLeaves(t, id); len(l) != 1 {
		t.Fatalf("session cgroups in the scope: %q, want one", l)
	}
	if r := sdbuild(t, nil, "cancel", id); r.code != 0 {
		t.Fatalf("cancel: %d %q", r.code, r.stderr)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 128+int(syscall.SIGKILL) {
			t.Errorf("enter after cancel: %v, want exit status 137", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("enter still runs 30s after its build was cancelled")
	}
	waitFor(t, "no process with the slot's ids", func() bool { return len(idsInUse(t)) == 0 })
}

// A client that goes away takes its session, and only its session, along.
func TestEnterClientGone(t *testing.T) {
	id := startSleeper(t)
	cmd, _ := startEnter(t, "enter", id, "--", "/bin/sh", "-c", "echo ready; sleep 1000 & exec sleep 1001")
	procs := func() string { out, _ := exec.Command("ps", "-eo", "args=").Output(); return string(out) }
	if !strings.Contains(procs(), "sleep 1001") {
		t.Fatalf("entered command not running:\n%s", procs())
	}
	cmd.Process.Kill()
	cmd.Wait()
	waitFor(t, "the session to end", func() bool {
		p := procs()
		return !strings.Contains(p, "sleep 1001") && len(sessionLeaves(t, id)) == 0
	})
	if p := procs(); !strings.Contains(p, "sleep 1000") {
		t.Errorf("the build's own sleep died with the session:\n%s", p)
	}
	if b := show(t, id); b.Status != api.StatusRunning {
		t.Errorf("build is %s after its session ended, want running", b.Status)
	}
}

func TestEnterTTY(t *testing.T) {
	id := startSleeper(t)
	// --tty without a terminal on this side: the command still gets one.
	// The command leads a session of the build's own pid namespace, so an
	// interactive shell can hand the terminal back when it exits.
	r := sdbuild(t, nil, "enter", "--tty", id, "--", "/bin/sh", "-c",
		`test -t 0 && test -t 1 && echo tty; stty size; echo $TERM; [ "$(cut -d" " -f6 /proc/$$/stat)" = $$ ] && echo own-session`)
	if r.code != 0 || r.stdout != "tty\r\n24 80\r\n\r\nown-session\r\n" {
		t.Errorf("enter --tty: %d %q %q", r.code, r.stdout, r.stderr)
	}
	// script(1) gives the client a terminal: the default is then a tty, the
	// shell is interactive, and the exit status comes back.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "script", "-qec", filepath.Join(binDir, "sdbuild")+" enter "+id, "/dev/null")
	cmd.Env = []string{"SDBUILD_SOCKET=" + socket, "TERM=xterm-test", "PATH=/usr/bin:/bin"}
	cmd.Stdin = strings.NewReader("echo term=$TERM x$((40+2))\nexit 5\n")
	out, err := cmd.Output()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 5 || !strings.Contains(string(out), "term=xterm-test") || !strings.Contains(string(out), "x42") {
		t.Errorf("interactive enter under script: %v, output %q; want exit 5, TERM passed, the shell's answer x42", err, out)
	}
	// The pty starts with the size of the client's terminal. script(1)
	// passes the end of its stdin on to the terminal as a control
	// character, which the terminal echoes ("^@") before or after the
	// answer as the race between the two goes: its stdin stays open until
	// the command is done.
	stdin, keep, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	defer keep.Close()
	cmd = exec.CommandContext(ctx, "script", "-qec", "stty rows 33 cols 99; "+filepath.Join(binDir, "sdbuild")+" enter "+id+" -- stty size", "/dev/null")
	cmd.Env = []string{"SDBUILD_SOCKET=" + socket, "TERM=xterm-test", "PATH=/usr/bin:/bin"}
	cmd.Stdin = stdin
	out, err = cmd.Output()
	if err != nil || string(out) != "33 99\r\n" {
		t.Errorf("enter under a 33x99 terminal: %v, output %q; want stty size 33 99", err, out)
	}
}
