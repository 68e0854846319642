package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
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
	testutil.RequireRoot(t)
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
