package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// sdbuild starts once per build, and every start pays for what it links:
// package initialisation, and the pages of the binary the runtime reads.
// These are linked for nothing a client does.
var notLinked = []struct{ prefix, why string }{
	{"github.com/spf13/viper.", "the configuration file is decoded with go-toml (config.decodeFile)"},
	{"net/http.", "api.Client speaks the HTTP/1.1 it needs itself, one request per connection (api/roundtrip.go)"},
	{"crypto/tls.", "the daemon is reached over a Unix socket, without TLS"},
}

func TestLinks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds sdbuild: not with -short")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	exe := filepath.Join(t.TempDir(), "sdbuild")
	build := exec.Command(gobin, "build", "-trimpath", "-o", exe, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build links it
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(gobin, "tool", "nm", exe).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	reported := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		for _, nl := range notLinked {
			if strings.HasPrefix(f[2], nl.prefix) && !reported[nl.prefix] {
				t.Errorf("sdbuild links %s: %s", f[2], nl.why)
				reported[nl.prefix] = true
			}
		}
	}
}
