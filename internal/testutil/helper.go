package testutil

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"testing"
)

// Helper is the test binary run again as a helper process: a TestMain
// that finds its variable in the environment runs the helper instead of
// the tests. Helpers here tell the test what they did on stdout and exit
// once their stdin ends.
type Helper struct {
	Cmd    *exec.Cmd
	Stdin  io.WriteCloser
	Stdout *bufio.Reader
}

// StartHelper starts the test binary again, running no test, with env
// added to its environment and its stderr the test's. When the test ends
// its stdin is closed and it is killed and waited for.
func StartHelper(t testing.TB, env ...string) *Helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper process: %v", err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return &Helper{Cmd: cmd, Stdin: stdin, Stdout: bufio.NewReader(stdout)}
}
