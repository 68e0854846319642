// Package units holds sdbuild's systemd units, embedded in the binary,
// and installs them.
package units

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed sdbuild.socket sdbuild.service sdbuild.slice
var files embed.FS

// SystemDir is where units for the system manager are installed.
const SystemDir = "/etc/systemd/system"

// Names lists the units, sorted.
func Names() []string {
	ents, _ := files.ReadDir(".")
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// Render returns the unit name with @BINDIR@ replaced by bindir, the
// directory that holds sdbuildd.
func Render(name, bindir string) ([]byte, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("unit %s: %w", name, err)
	}
	if !filepath.IsAbs(bindir) {
		return nil, fmt.Errorf("unit %s: bindir %q must be absolute", name, bindir)
	}
	return []byte(strings.ReplaceAll(string(b), "@BINDIR@", filepath.Clean(bindir))), nil
}

// Install writes every unit into dir (for example SystemDir) and returns
// the paths written. The caller reloads systemd.
func Install(dir, bindir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("install units: %w", err)
	}
	var written []string
	for _, n := range Names() {
		b, err := Render(n, bindir)
		if err != nil {
			return written, err
		}
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return written, fmt.Errorf("install unit %s: %w", p, err)
		}
		written = append(written, p)
	}
	return written, nil
}
