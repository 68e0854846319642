//go:build integration

package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// A container that systemd-nspawn starts with --private-users=pick while a
// build holds a slot is never given that slot's ids, even when the slot's
// range is the one nspawn would try first: sdbuild holds nspawn's lock on
// it for the build's life. (Only for ranges configured inside nspawn's; the
// default lies above it.)
func TestNspawnPickPassesABuildsSlotBy(t *testing.T) {
	requireNspawn(t)
	const machine = "sdbuild-integration-pick"
	first := uint64(testutil.NspawnPick(t, machine)) // nspawn's first choice for this name
	state := t.TempDir()
	gate := t.TempDir()
	cmd := exec.Command(filepath.Join(binDir, "sdbuild"), append([]string{"run", "--local",
		"--state-dir", state, "--start-id", strconv.FormatUint(first, 10), "--id-count", "65536",
		"-i", gate + ":/gate"}, append(inputs, "--", "/bin/sh", "-c", gateScript("true"))...)...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		os.WriteFile(filepath.Join(gate, "go"), nil, 0o644)
		select {
		case <-done:
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			t.Errorf("the build did not end once its gate opened:\n%s", out.String())
		}
	}()
	// The build holds slot 0 once its builder runs, which shows as a
	// process with the slot's first id.
	waitFor(t, "the build on slot 0", func() bool { return len(idsInRange(t, first, 65536)) > 0 })
	if got := uint64(testutil.NspawnPick(t, machine)); got == first {
		t.Errorf("with a build on slot 0 (%d-%d), nspawn gave a container base %d, the slot's", first, first+65535, got)
	}
}

// A range Nix's auto-allocate-uids hands out is refused by the daemon,
// sdbuild run --local and sdbuild doctor alike, naming Nix's setting and
// the way out.
func TestNixRangeRefused(t *testing.T) {
	rootless(t) // /etc is an overlay of the testbed's own from here on
	if err := os.MkdirAll("/etc/nix", 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll("/etc/nix") })
	if err := os.WriteFile("/etc/nix/nix.conf", []byte("build-users-group = nixbld\nauto-allocate-uids = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const nixDefault = "872415232"
	state := t.TempDir()
	want := []string{"overlaps Nix's auto-allocate-uids range 872415232-880803839", "/etc/nix/nix.conf line 2", "set start-id to"}
	for _, tc := range []struct {
		name string
		cmd  []string
		fail bool
	}{
		{"run --local", append([]string{filepath.Join(binDir, "sdbuild"), "run", "--local", "--state-dir", state, "--start-id", nixDefault}, append(inputs, "--", "/bin/true")...), true},
		{"sdbuildd", []string{filepath.Join(binDir, "sdbuildd"), "--state-dir", state, "--start-id", nixDefault, "--listen", filepath.Join(state, "sock")}, true},
		{"doctor", []string{filepath.Join(binDir, "sdbuild"), "doctor", "--state-dir", state, "--start-id", nixDefault}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, tc.cmd[0], tc.cmd[1:]...).CombinedOutput()
			if tc.fail && err == nil {
				t.Errorf("%s succeeded on Nix's range:\n%s", tc.name, out)
			}
			for _, w := range want {
				if !strings.Contains(string(out), w) {
					t.Errorf("%s output lacks %q:\n%s", tc.name, w, out)
				}
			}
		})
	}
}
