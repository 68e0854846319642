package testutil

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NspawnPick runs a volatile container of the host's own / with
// systemd-nspawn --private-users=pick under the machine name machine and
// returns the first host uid nspawn gave it: nspawn tries a base hashed
// from the name first, random ones after it.
func NspawnPick(t testing.TB, machine string) uint32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Nothing to set up or chown (ownership off), no systemd needed to
	// register or scope it.
	out, err := exec.CommandContext(ctx, "systemd-nspawn", "-D", "/", "--volatile=yes",
		"--private-users=pick", "--private-users-ownership=off", "--machine="+machine,
		"--register=no", "--keep-unit", "-q", "--pipe", "--", "cat", "/proc/self/uid_map").CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-nspawn --private-users=pick: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "0" && f[2] == "65536" {
			if base, err := strconv.ParseUint(f[1], 10, 32); err == nil {
				return uint32(base)
			}
		}
	}
	t.Fatalf("systemd-nspawn printed no uid_map line of a picked range:\n%s", out)
	return 0
}
