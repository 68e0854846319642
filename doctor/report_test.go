package doctor

import (
	"encoding/json"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/sdbuild/sdbuild/sandbox"
)

func TestDiagnoseOK(t *testing.T) {
	for _, tc := range []struct {
		name     string
		change   func(h *Host)
		ok       bool
		blocking string // names of blocking checks, joined by ","
	}{
		{"healthy", func(h *Host) {}, true, ""},
		// Warnings and missing features alone leave the sandbox usable.
		{"this VM as root", func(h *Host) {
			*h = *hybridHost()
			h.SystemdErr, h.SystemdBooted = errors.New("no bus"), false
			delete(h.Executables, sandbox.Nspawn.Name)
		}, true, ""},
		{"not root", func(h *Host) { h.EUID = 1000 }, true, ""},
		{"user namespaces disabled", func(h *Host) {
			h.Files["/proc/sys/user/max_user_namespaces"] = "0"
			h.NamespaceErrs["user"] = syscall.ENOSPC
		}, false, "user namespace"},
		{"no pid namespaces", func(h *Host) { h.NamespaceErrs["pid"] = syscall.EINVAL }, false, "pid namespace"},
		{"id clash", func(h *Host) { h.HostIDsErr = errors.New("overlaps user") }, false, "id range"},
		{"two problems", func(h *Host) {
			h.NamespaceErrs["network"] = syscall.ENOSPC
			h.ConfigErr, h.Config = errors.New("bad"), nil
		}, false, "network namespace,id range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := healthyHost()
			tc.change(h)
			r := Diagnose(h)
			var names []string
			for _, b := range r.Blocking() {
				names = append(names, b.Name)
			}
			if r.OK != tc.ok || strings.Join(names, ",") != tc.blocking {
				t.Errorf("Diagnose: OK %v, blocking %q; want %v, %q", r.OK, names, tc.ok, tc.blocking)
			}
		})
	}
}

func TestWriteText(t *testing.T) {
	h := hybridHost()
	h.NamespaceErrs["network"] = syscall.ENOSPC
	r := Diagnose(h)
	var b strings.Builder
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if want := len(r.Checks) + len(r.Features) + 5; len(lines) != want {
		t.Fatalf("WriteText printed %d lines, want %d:\n%s", len(lines), want, b.String())
	}
	// Every row's status starts in the same column, across both tables.
	col := strings.Index(lines[0], "STATUS")
	for _, l := range lines {
		if l == "" || strings.HasPrefix(l, "sdbuild's") {
			continue
		}
		if col < 1 || len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("line %q: status not at column %d", l, col)
		}
	}
	if !strings.Contains(b.String(), "network namespace  missing") {
		t.Errorf("WriteText lacks the missing network namespace:\n%s", b.String())
	}
	if last := lines[len(lines)-1]; last != "sdbuild's sandbox cannot run here; missing: network namespace" {
		t.Errorf("last line = %q", last)
	}
}

func TestReportJSON(t *testing.T) {
	b, err := json.Marshal(Diagnose(hybridHost()))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		OK       *bool `json:"ok"`
		Checks   []map[string]any
		Features []map[string]any
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.OK == nil || !*got.OK || len(got.Checks) == 0 || len(got.Features) != len(sandbox.KnownFeatures()) {
		t.Fatalf("JSON = %s; want ok true, checks, and a feature each of %v", b, sandbox.KnownFeatures())
	}
	for _, it := range append(got.Checks, got.Features...) {
		for _, k := range []string{"name", "status", "reason"} {
			if s, _ := it[k].(string); s == "" {
				t.Errorf("JSON item %v: no %s", it, k)
			}
		}
	}
}
