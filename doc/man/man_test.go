package man

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/config"
)

// Every key of config, with the variable config reads and the default
// config starts from, as the file would spell it.
func TestKeys(t *testing.T) {
	keys, err := Keys()
	if err != nil {
		t.Fatal(err)
	}
	d := config.Defaults()
	want := map[string]string{
		"state-dir": `"` + d.StateDir + `"`,
		"socket":    `"` + d.Socket + `"`,
		"max-jobs":  "the number of CPUs",
	}
	if len(keys) < 9 {
		t.Errorf("Keys() = %d keys, want every key of config (9 or more)", len(keys))
	}
	for _, k := range keys {
		if env := "SDBUILD_" + strings.ToUpper(strings.ReplaceAll(k.Name, "-", "_")); k.Env != env {
			t.Errorf("key %s: Env = %q, want %q", k.Name, k.Env, env)
		}
		if w, ok := want[k.Name]; ok && k.Default != w {
			t.Errorf("key %s: Default = %q, want %q", k.Name, k.Default, w)
		}
		if k.Default == "" {
			t.Errorf("key %s: no default", k.Name)
		}
	}
}

func TestFill(t *testing.T) {
	keys := []Key{{"a-b", "SDBUILD_A_B", `"/x"`}, {"c", "SDBUILD_C", "1"}}
	h := Header{Version: "1.0", Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for _, tc := range []struct {
		name, src, want   string
		everyKey, wantErr bool
	}{
		{"values", "@DEFAULT:a-b@ @ENV:a-b@ @DEFAULT:c@ @ENV:c@ @VERSION@ @DATE@", `"/x" SDBUILD_A_B 1 SDBUILD_C 1.0 2026\-01\-02`, true, false},
		{"a key left out", "@DEFAULT:a-b@ @ENV:a-b@", "", true, true},
		{"a key left out of another page", "@DEFAULT:a-b@", `"/x"`, false, false},
		{"an unknown key", "@DEFAULT:nope@", "", false, true},
		{"an unknown placeholder", "@NOPE@", "", false, true},
		{"no placeholder", "a@b.c", "a@b.c", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fill([]byte(tc.src), h, keys, tc.everyKey)
			if (err != nil) != tc.wantErr || (err == nil && string(got) != tc.want) {
				t.Errorf("fill(%q) = %q, %v; want %q (error %v)", tc.src, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// The hand-written pages as written: every key of config in
// sdbuild.toml(5) with its default and variable, and every option of
// sdbuildd (as its --help lists them) in sdbuildd(8).
func TestHandWritten(t *testing.T) {
	dir := t.TempDir()
	root := &cobra.Command{Use: "sdbuild"}
	if _, err := Write(root, dir, Header{Version: "test", Date: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	keys, err := Keys()
	if err != nil {
		t.Fatal(err)
	}
	toml := read(t, filepath.Join(dir, "man5", "sdbuild.toml.5"))
	for _, k := range keys {
		for _, w := range []string{".BI \"" + roffEscape(k.Name) + " = ", roffEscape(k.Default), k.Env} {
			if !strings.Contains(toml, w) {
				t.Errorf("sdbuild.toml(5) lacks %q (key %s)", w, k.Name)
			}
		}
	}
	if strings.Contains(toml, "@") && regexp.MustCompile(`@[A-Z_]+(:[a-z-]+)?@`).MatchString(toml) {
		t.Error("sdbuild.toml(5) has a placeholder left")
	}
	daemon := read(t, filepath.Join(dir, "man8", "sdbuildd.8"))
	for _, f := range sdbuilddFlags(t) {
		if !strings.Contains(daemon, ".BI "+roffEscape("--"+f)+" ") {
			t.Errorf("sdbuildd(8) does not describe --%s", f)
		}
	}
}

// sdbuilddFlags are the long options sdbuildd --help lists.
func sdbuilddFlags(t *testing.T) []string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sdbuildd")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/sdbuildd").CombinedOutput(); err != nil {
		t.Fatalf("go build sdbuildd: %v\n%s", err, out)
	}
	// pflag prints the usage and exits 2 on --help.
	out, _ := exec.Command(bin, "--help").CombinedOutput()
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z][a-z-]*)`).FindAllStringSubmatch(string(out), -1) {
		if m[1] != "help" {
			flags = append(flags, m[1])
		}
	}
	if len(flags) < 10 {
		t.Fatalf("sdbuildd --help lists %d options, want the config keys and more:\n%s", len(flags), out)
	}
	return flags
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
