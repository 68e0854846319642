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

//go:embed sdbuild.socket sdbuild-runner.socket sdbuild.service sdbuild.slice user/sdbuild.socket user/sdbuild.service user/sdbuild.slice
var files embed.FS

// SystemDir is where units for the system manager are installed.
const SystemDir = "/etc/systemd/system"

// Set is one set of units: the system daemon's, or a user's own.
type Set string

const (
	System Set = "."    // for the system manager (systemctl)
	User   Set = "user" // for a user's manager (systemctl --user), without root
)

// UserDir is where a user's units are installed: $XDG_CONFIG_HOME/systemd/user,
// given the user's config home (~/.config by default).
func UserDir(configHome string) string { return filepath.Join(configHome, "systemd", "user") }

// Names lists the system units, sorted.
func Names() []string { return set(System).names() }

// Names lists the units of s, sorted.
func (s Set) Names() []string { return set(s).names() }

type set Set

func (s set) names() []string {
	ents, _ := files.ReadDir(string(s))
	var names []string
	for _, e := range ents {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// Render returns the system unit name with @BINDIR@ replaced by bindir,
// the directory that holds sdbuildd.
func Render(name, bindir string) ([]byte, error) { return System.Render(name, bindir) }

// Render returns unit name of s with @BINDIR@ replaced by bindir.
func (s Set) Render(name, bindir string) ([]byte, error) {
	b, err := files.ReadFile(filepath.Join(string(s), name))
	if err != nil {
		return nil, fmt.Errorf("unit %s: %w", name, err)
	}
	if !filepath.IsAbs(bindir) {
		return nil, fmt.Errorf("unit %s: bindir %q must be absolute", name, bindir)
	}
	return []byte(strings.ReplaceAll(string(b), "@BINDIR@", filepath.Clean(bindir))), nil
}

// Install writes every system unit into dir (for example SystemDir) and
// returns the paths written. The caller reloads systemd.
func Install(dir, bindir string) ([]string, error) { return System.Install(dir, bindir) }

// Install writes every unit of s into dir (SystemDir, UserDir) and returns
// the paths written. The caller reloads systemd.
func (s Set) Install(dir, bindir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("install units: %w", err)
	}
	var written []string
	for _, n := range s.Names() {
		b, err := s.Render(n, bindir)
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
