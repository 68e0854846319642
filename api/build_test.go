package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// The history stores Builds as JSON: a record written before the outcome
// grew core_dumped and oom_killed reads back unchanged, and a record
// without them writes no new keys.
func TestBuildOldRecord(t *testing.T) {
	const old = `{"id":"20261201-abc","user":"alice","uid":1000,"slot":3,"args":["sh"],"status":"failed","exit_code":139,"signal":11,"error":"builder exited with status 139","created":"2026-12-01T10:00:00Z","cpu_usec":1234}`
	var b Build
	if err := json.Unmarshal([]byte(old), &b); err != nil {
		t.Fatalf("Unmarshal(old record) = %v", err)
	}
	if b.Signal != 11 || b.ExitCode != 139 || b.OOMKilled || b.CoreDumped || b.CPUUsec != 1234 {
		t.Errorf("old record read as %+v", b)
	}
	out, _ := json.Marshal(&b)
	for _, k := range []string{"oom_killed", "core_dumped"} {
		if strings.Contains(string(out), k) {
			t.Errorf("Marshal(old record) = %s, has %s", out, k)
		}
	}
}
