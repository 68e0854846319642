package config

import (
	"errors"
	"strings"
	"testing"
)

// TOML keys are case-sensitive; sdbuild matches them folded, so the file
// is checked first and every key folding would merge is an error naming
// both.
func TestLoadKeysCaseSensitive(t *testing.T) {
	for _, tt := range []struct {
		name string
		file string
		want []string // each must appear in the error
	}{
		{"two spellings of a key", "state-dir = \"/a\"\nSTATE-DIR = \"/b\"\n",
			[]string{`keys "STATE-DIR" and "state-dir" differ only in case`}},
		{"a known key in capitals", "Max-Jobs = 2\n",
			[]string{`key "Max-Jobs" differs from "max-jobs" only in case`, `write "max-jobs"`}},
		{"a duplicate key", "max-jobs = 2\nmax-jobs = 3\n",
			[]string{"key max-jobs is already defined"}},
		{"a table's keys", "[x]\na = 1\nA = 2\n",
			[]string{`keys "x.A" and "x.a" differ only in case`}},
		{"three spellings", "socket = \"/a\"\nSocket = \"/b\"\nSOCKET = \"/c\"\n",
			[]string{`keys "SOCKET", "Socket" and "socket" differ only in case`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			useDefaultFile(t, "/nonexistent/sdbuild.toml")
			path := writeFile(t, "sdbuild.toml", tt.file)
			_, err := Load(Source{File: path})
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("Load(%q) = %v, want ErrInvalidKey", tt.file, err)
			}
			if n := strings.Count(err.Error(), "only in case"); n > 1 {
				t.Errorf("Load(%q) = %q: one problem reported %d times", tt.file, err, n)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load(%q) = %q, want it to contain %q", tt.file, err, w)
				}
			}
		})
	}
}

// sdbuild sets SDBUILD_BUILD_ID in every build: sdbuild run inside a build
// must not take it for a misspelt setting.
func TestLoadIgnoresVariablesSdbuildSets(t *testing.T) {
	useDefaultFile(t, "/nonexistent/sdbuild.toml")
	if _, err := Load(Source{Environ: []string{"SDBUILD_BUILD_ID=20261202-abcdef"}}); err != nil {
		t.Errorf("Load with SDBUILD_BUILD_ID set = %v, want no error", err)
	}
	// A misspelt variable is still an error.
	if _, err := Load(Source{Environ: []string{"SDBUILD_BUILD_ID=x", "SDBUILD_MAXJOBS=2"}}); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Load with SDBUILD_MAXJOBS = %v, want ErrUnknownKey", err)
	}
}
