package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// nsLimitArg0 runs the test binary as a process that forbids itself
// network namespaces and then tries to start a sandbox.
const nsLimitArg0 = "sdbuild-test-nslimit"

// nsLimitMain runs in a user namespace of its own. The namespace limits in
// /proc/sys/user are per user namespace, so setting one here constrains
// this process and nothing else on the host.
func nsLimitMain() int {
	if err := os.WriteFile("/proc/sys/user/max_net_namespaces", []byte("0"), 0); err != nil {
		fmt.Println("set limit:", err)
		return 2
	}
	s := validSpec()
	_, err := Start(&s)
	fmt.Println(errors.Is(err, ErrNamespace), err)
	return 0
}

// Requirement 10: a namespace that cannot be created fails the build with
// an error naming it; nothing runs unsandboxed.
func TestNamespaceFailureIsNamed(t *testing.T) {
	testutil.RequireRoot(t, "creates namespaces, maps host ids and mounts")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Args = []string{nsLimitArg0}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	got := strings.TrimSpace(string(out))
	if !strings.HasPrefix(got, "true ") || !strings.Contains(got, "network namespace") || !strings.Contains(got, "user.max_net_namespaces") {
		t.Errorf("Start with network namespaces forbidden = %q, want ErrNamespace naming the network namespace and its limit", got)
	}
}

// groupsArg0 runs the test binary as a process with a supplementary group
// that starts a build which tries to read a file only that group may; it
// first prints the groups of each of init's threads once the root is
// built.
const groupsArg0 = "sdbuild-test-groups"

func groupsMain() int {
	s := validSpec()
	s.Dir = os.Args[1]
	s.HostID = testHostID
	s.Args = []string{"/bin/sh", "-c", "cat /g/f; grep Groups /proc/self/status"}
	s.Env = []string{"PATH=/usr/bin:/bin"}
	s.Inputs = append(append([]Mount(nil), baseInputs...), Mount{Host: os.Args[2], Sandbox: "/g"})
	if err := PrepareDir(s.Dir); err != nil {
		fmt.Println(err)
		return 2
	}
	p, err := Start(&s)
	if err != nil {
		fmt.Println(err)
		return 2
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", p.PID()))
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		for _, l := range strings.Split(string(b), "\n") {
			if g, ok := strings.CutPrefix(l, "Groups:"); ok {
				fmt.Printf("init thread groups:%s\n", g)
			}
		}
	}
	go io.Copy(os.Stdout, p.Log)
	p.Go()
	p.Wait()
	return 0
}

// A caller's supplementary groups never reach the builder; a caller
// without any (init then has none to drop) starts builds all the same.
func TestSupplementaryGroupsDropped(t *testing.T) {
	testutil.RequireRoot(t, "creates namespaces, maps host ids and mounts")
	files := t.TempDir()
	os.Chmod(files, 0o755)
	f := filepath.Join(files, "f")
	os.WriteFile(f, []byte("group secret\n"), 0o640)
	os.Chown(f, 0, 4242)
	exe, _ := os.Executable()
	for _, groups := range [][]uint32{{4242}, {}} {
		cmd := exec.Command(exe, filepath.Join(t.TempDir(), "b"), files)
		cmd.Args[0] = groupsArg0
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 0, Gid: 0, Groups: groups}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper: %v\n%s", err, out)
		}
		if strings.Contains(string(out), "group secret") || !strings.Contains(string(out), "Permission denied") {
			t.Errorf("a build started by a process in groups %v read the file of group 4242:\n%s", groups, out)
		}
		if !regexp.MustCompile(`(?m)^Groups:\s*$`).MatchString(string(out)) {
			t.Errorf("a build started by a process in groups %v has supplementary groups:\n%s", groups, out)
		}
		threads := regexp.MustCompile(`(?m)^init thread groups:(.*)$`).FindAllStringSubmatch(string(out), -1)
		for _, m := range threads {
			if strings.TrimSpace(m[1]) != "" {
				t.Errorf("a build started by a process in groups %v: a thread of init has groups %q", groups, m[1])
			}
		}
		if len(threads) < 2 {
			t.Errorf("a build started by a process in groups %v: %d threads of init seen, want its every thread (more than one):\n%s", groups, len(threads), out)
		}
	}
}
