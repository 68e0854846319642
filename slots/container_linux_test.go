package slots

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// containerEnv switches the test binary into a process that opens a pool
// from inside a user namespace mapping only ids 0-65535, as a rootless
// container does.
const containerEnv = "SDBUILD_SLOTS_TEST_CONTAINER"

func openInContainer(dir string) int {
	_, err := Open(Options{Dir: dir, StartID: 872415232, IDsPerBuild: 65536, Slots: 2})
	fmt.Println(err)
	return 0
}

func TestOpenRefusesUnmappedRange(t *testing.T) {
	testutil.RequireRoot(t, whyRoot)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = []string{containerEnv + "=" + t.TempDir()}
	m := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER, UidMappings: m, GidMappings: m}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	for _, want := range []string{"host ids 872415232-872546303", "/proc/self/uid_map maps only 0-65535", "choose start-id and id-count inside the mapped ids"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("Open in a container: %q, want it to contain %q", out, want)
		}
	}
}
