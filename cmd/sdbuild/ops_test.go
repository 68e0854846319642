package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/api"
)

func TestFinishedLine(t *testing.T) {
	if got := finishedLine(nil); got != "" {
		t.Errorf("finishedLine(nil) = %q", got)
	}
	got := finishedLine(map[string]int{"failed": 2, "succeeded": 10, "cancelled": 1})
	if want := "finished since start: 10 succeeded, 2 failed, 1 cancelled"; got != want {
		t.Errorf("finishedLine = %q, want %q", got, want)
	}
}

// rerun --check: identical trees remove the rerun's copy; differing ones
// keep it, print the first differences and exit 1.
func TestCompareOutputs(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "out"), filepath.Join(dir, "out.check")
	for _, d := range []string{a, b} {
		os.MkdirAll(filepath.Join(d, "bin"), 0o755)
		os.WriteFile(filepath.Join(d, "bin", "tool"), []byte("same"), 0o755)
	}
	first := &api.Build{ID: "aaa", Output: a, Slot: 0}
	rerun := &api.Build{ID: "bbb", Output: b, Slot: 1}
	var out bytes.Buffer
	if err := compareOutputs(&out, first, rerun, 10, false); err != nil {
		t.Fatalf("compareOutputs(identical) = %v", err)
	}
	if !strings.Contains(out.String(), "build aaa reproduced: 3 entries identical (slots 0 and 1)") {
		t.Errorf("output = %q", out.String())
	}
	if _, err := os.Stat(b); !os.IsNotExist(err) {
		t.Errorf("the rerun's identical output is still there: %v", err)
	}

	os.MkdirAll(filepath.Join(b, "bin"), 0o755)
	os.WriteFile(filepath.Join(b, "bin", "tool"), []byte("other"), 0o755)
	os.WriteFile(filepath.Join(b, "timestamp"), []byte("now"), 0o644)
	out.Reset()
	err := compareOutputs(&out, first, rerun, 1, false)
	var se *statusError
	if !errors.As(err, &se) || se.code != exitNotReproducible {
		t.Fatalf("compareOutputs(different) = %v, want exit %d", err, exitNotReproducible)
	}
	for _, want := range []string{"not reproducible: 2 differences", "bin/tool: contents differs", "… and 1 more"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(b); err != nil {
		t.Errorf("the rerun's differing output was removed: %v", err)
	}
}
