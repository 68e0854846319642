package doctor

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/sandbox"
)

// limitArg0 runs the test binary as a process that sets one namespace
// limit to 0 in a user namespace of its own, then gathers and prints a
// limitResult as JSON.
const limitArg0 = "doctor-test-limit"

func TestMain(m *testing.M) {
	// Gather's probes re-execute this binary as sandbox's probe.
	sandbox.MaybeInit()
	if filepath.Base(os.Args[0]) == limitArg0 {
		os.Exit(limitMain(os.Args[1]))
	}
	os.Exit(m.Run())
}

// limitMain runs in its own user namespace: the limits in /proc/sys/user
// are per user namespace, so setting one here binds this process and its
// children, nothing else on the host.
func limitMain(knob string) int {
	if err := os.WriteFile(sysctlFile(knob), []byte("0"), 0); err != nil {
		os.Stderr.WriteString("set limit: " + err.Error() + "\n")
		return 2
	}
	cfg := config.Defaults()
	h := Gather(context.Background(), Options{Config: &cfg})
	var res limitResult
	res.Report = Diagnose(h)
	// Unseen, the sysctl cannot explain the failure: only the probe can.
	delete(h.Files, sysctlFile(knob))
	res.ProbeOnly = Diagnose(h)
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 2
	}
	return 0
}

// limitResult is what limitMain prints: the report, and the report from
// the same facts without the limit's sysctl file.
type limitResult struct {
	Report    Report `json:"report"`
	ProbeOnly Report `json:"probe_only"`
}
