package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// useDefaultFile points the default config path at path for one test, so no
// test reads the real /etc/sdbuild/sdbuild.toml. Tests using it must not run
// in parallel.
func useDefaultFile(t *testing.T, path string) {
	t.Helper()
	old := defaultFile
	defaultFile = path
	t.Cleanup(func() { defaultFile = old })
}

// writeFile writes content to a new file in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// flagSet returns AddFlags' flags after parsing args.
func flagSet(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("sdbuild", pflag.ContinueOnError)
	AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("Parse(%q) = %v", args, err)
	}
	return fs
}

func TestLoadPrecedence(t *testing.T) {
	const file = `
state-dir = "/file/state"
start-id = 65536
max-jobs = 3
allowed-users = ["alice", "@wheel"]
sandbox-paths = ["/nix/store", "/bin/sh:/bin/sh"]
`
	tests := []struct {
		name  string
		file  string // "" means no file at the default path
		env   []string
		args  []string
		clear bool // Flags nil instead of AddFlags' set
		want  func(c *Config)
	}{
		{
			name: "defaults",
			want: func(c *Config) {},
		},
		{
			name: "file over defaults",
			file: file,
			want: func(c *Config) {
				c.StateDir = "/file/state"
				c.StartID = 65536
				c.MaxJobs = 3
				c.AllowedUsers = []string{"alice", "@wheel"}
				c.SandboxPaths = []string{"/nix/store", "/bin/sh:/bin/sh"}
			},
		},
		{
			name: "env over file",
			file: file,
			env: []string{
				"PATH=/usr/bin", // not ours: ignored
				"SDBUILD_STATE_DIR=/env/state",
				"SDBUILD_START_ID=131072",
				"SDBUILD_ALLOWED_USERS=bob, @builders",
				"SDBUILD_SANDBOX_PATHS=",
			},
			want: func(c *Config) {
				c.StateDir = "/env/state"
				c.StartID = 131072
				c.MaxJobs = 3
				c.AllowedUsers = []string{"bob", "@builders"}
				c.SandboxPaths = []string{}
			},
		},
		{
			name: "flags over env over file",
			file: file,
			env:  []string{"SDBUILD_STATE_DIR=/env/state", "SDBUILD_START_ID=131072", "SDBUILD_MAX_JOBS=5"},
			args: []string{"--state-dir=/flag/state", "--allowed-users=carol,@staff", "--sandbox-paths="},
			want: func(c *Config) {
				c.StateDir = "/flag/state"
				c.StartID = 131072
				c.MaxJobs = 5
				c.AllowedUsers = []string{"carol", "@staff"}
				c.SandboxPaths = []string{}
			},
		},
		{
			name: "flag set to its default still overrides",
			env:  []string{"SDBUILD_IDS_PER_BUILD=1"},
			args: []string{"--ids-per-build=65536"},
			want: func(c *Config) {},
		},
		{
			name: "unchanged flags do not hide env",
			env:  []string{"SDBUILD_SOCKET=/env/sock", "SDBUILD_TRUSTED_USERS=root,@admin"},
			args: []string{"--max-jobs=7"},
			want: func(c *Config) {
				c.Socket = "/env/sock"
				c.TrustedUsers = []string{"root", "@admin"}
				c.MaxJobs = 7
			},
		},
		{
			name:  "nil flags",
			env:   []string{"SDBUILD_ID_COUNT=65536"},
			clear: true,
			want:  func(c *Config) { c.IDCount = 65536 },
		},
		{
			name: "first of repeated env variables wins",
			env:  []string{"SDBUILD_MAX_JOBS=2", "SDBUILD_MAX_JOBS=9"},
			want: func(c *Config) { c.MaxJobs = 2 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "missing.toml")
			if tt.file != "" {
				path = writeFile(t, "sdbuild.toml", tt.file)
			}
			useDefaultFile(t, path)
			src := Source{Environ: tt.env, Flags: flagSet(t, tt.args...)}
			if tt.clear {
				src.Flags = nil
			}
			want := Defaults()
			tt.want(&want)

			got, err := Load(src)
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("Load() = %+v, want %+v", *got, want)
			}
		})
	}
}

func TestLoadConfigFile(t *testing.T) {
	good := writeFile(t, "good.toml", `max-jobs = 4`)
	other := writeFile(t, "other.toml", `max-jobs = 6`)
	missing := filepath.Join(t.TempDir(), "missing.toml")
	dir := t.TempDir()

	tests := []struct {
		name     string
		def      string // the default path
		file     string // Source.File
		env      []string
		args     []string
		wantJobs int    // when no error
		wantErr  string // substring of the error
	}{
		{name: "default missing is fine", def: missing, wantJobs: Defaults().MaxJobs},
		{name: "default read", def: good, wantJobs: 4},
		{name: "default unreadable", def: dir, wantErr: "config: read " + dir + ": is a directory"},
		{name: "explicit file", def: good, file: other, wantJobs: 6},
		{name: "explicit missing", def: good, file: missing,
			wantErr: "config: read " + missing + ": no such file or directory"},
		{name: "SDBUILD_CONFIG", def: good, env: []string{"SDBUILD_CONFIG=" + other}, wantJobs: 6},
		{name: "SDBUILD_CONFIG missing", def: good, env: []string{"SDBUILD_CONFIG=" + missing},
			wantErr: "config: read " + missing + " (from SDBUILD_CONFIG): no such file or directory"},
		{name: "empty SDBUILD_CONFIG is unset", def: good, env: []string{"SDBUILD_CONFIG="}, wantJobs: 4},
		{name: "--config over SDBUILD_CONFIG", def: good, env: []string{"SDBUILD_CONFIG=" + missing},
			args: []string{"--config", other}, wantJobs: 6},
		{name: "--config missing", def: good, args: []string{"--config=" + missing},
			wantErr: "config: read " + missing + " (from --config): no such file or directory"},
		{name: "Source.File over --config", def: missing, file: good, args: []string{"--config=" + missing},
			wantJobs: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			useDefaultFile(t, tt.def)
			got, err := Load(Source{File: tt.file, Environ: tt.env, Flags: flagSet(t, tt.args...)})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			if got.MaxJobs != tt.wantJobs {
				t.Errorf("Load().MaxJobs = %d, want %d", got.MaxJobs, tt.wantJobs)
			}
		})
	}

	t.Run("explicit missing is ErrNotExist", func(t *testing.T) {
		_, err := Load(Source{File: missing})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load() error = %v, want fs.ErrNotExist", err)
		}
	})
}

func TestLoadUnknown(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  []string
		want []string // each must appear in the error; %s is the file
	}{
		{
			name: "misspelt file key",
			file: `stat-dir = "/x"`,
			want: []string{`config %s: unknown key "stat-dir" (did you mean "state-dir"?)`},
		},
		{
			name: "underscore file key",
			file: "max_jobs = 2",
			want: []string{`config %s: unknown key "max_jobs" (did you mean "max-jobs"?)`},
		},
		{
			name: "unrelated file key",
			file: `colour = "red"`,
			want: []string{`config %s: unknown key "colour"` + "\n", `"colour"`},
		},
		{
			name: "table",
			file: "[state]\ndir = \"/x\"",
			want: []string{`config %s: unknown key "state.dir"`},
		},
		{
			name: "misspelt env",
			env:  []string{"SDBUILD_STAT_DIR=/x"},
			want: []string{`config: unknown environment variable "SDBUILD_STAT_DIR" (did you mean "SDBUILD_STATE_DIR"?)`},
		},
		{
			name: "all reported",
			file: "stat-dir = \"/x\"\nsocket = \"/s\"\nmaxjobs = 1",
			env:  []string{"SDBUILD_JOBS=2", "SDBUILD_CONFIGURATION=x"},
			want: []string{`"stat-dir"`, `"maxjobs"`, `"SDBUILD_JOBS"`, `"SDBUILD_CONFIGURATION"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "sdbuild.toml", tt.file)
			_, err := Load(Source{File: path, Environ: tt.env})
			if !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("Load() error = %v, want ErrUnknownKey", err)
			}
			for _, w := range tt.want {
				w = strings.ReplaceAll(w, "%s", path)
				if !strings.Contains(err.Error()+"\n", w) {
					t.Errorf("Load() error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadBadValues(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		env   []string
		flags func(fs *pflag.FlagSet) // extra flags, as cmd/ might define them
		args  []string
		want  string // the whole error; %s is the file
	}{
		{name: "uint32 word", env: []string{"SDBUILD_START_ID=abc"},
			want: `config: start-id = "abc" (from SDBUILD_START_ID): not an unsigned 32-bit integer`},
		{name: "uint32 negative env", env: []string{"SDBUILD_ID_COUNT=-1"},
			want: `config: id-count = "-1" (from SDBUILD_ID_COUNT): not an unsigned 32-bit integer`},
		{name: "uint32 too big env", env: []string{"SDBUILD_IDS_PER_BUILD=4294967296"},
			want: `config: ids-per-build = "4294967296" (from SDBUILD_IDS_PER_BUILD): not an unsigned 32-bit integer`},
		{name: "uint32 negative file", file: "start-id = -1",
			want: `config: start-id = -1 (from %s): not an unsigned 32-bit integer`},
		{name: "uint32 too big file", file: "id-count = 4294967296",
			want: `config: id-count = 4294967296 (from %s): not an unsigned 32-bit integer`},
		{name: "uint32 float file", file: "start-id = 1.5",
			want: `config: start-id = 1.5 (from %s): not an unsigned 32-bit integer`},
		{name: "uint32 negative flag defined as string",
			flags: func(fs *pflag.FlagSet) { fs.String("start-id", "", "") },
			args:  []string{"--start-id=-5"},
			want:  `config: start-id = "-5" (from --start-id): not an unsigned 32-bit integer`},
		{name: "int word", env: []string{"SDBUILD_MAX_JOBS=many"},
			want: `config: max-jobs = "many" (from SDBUILD_MAX_JOBS): not an integer`},
		{name: "int bool file", file: "max-jobs = true",
			want: `config: max-jobs = true (from %s): not an integer`},
		{name: "int zero", env: []string{"SDBUILD_MAX_JOBS=0"},
			want: `config: max-jobs = 0: must be at least 1`},
		{name: "int negative", file: "max-jobs = -2",
			want: `config: max-jobs = -2: must be at least 1`},
		{name: "path number", file: "state-dir = 5",
			want: `config: state-dir = 5 (from %s): not a string`},
		{name: "path relative", env: []string{"SDBUILD_SOCKET=run/sdbuild.sock"},
			want: `config: socket = "run/sdbuild.sock": must be an absolute path`},
		{name: "path empty", env: []string{"SDBUILD_STATE_DIR="},
			want: `config: state-dir = "": must be an absolute path`},
		{name: "list of numbers", file: "allowed-users = [1, 2]",
			want: `config: allowed-users = [1, 2] (from %s): not a list of strings`},
		{name: "list bad entry", env: []string{"SDBUILD_TRUSTED_USERS=root,@"},
			want: `config: trusted-users entry "@": group name is empty; want a user name, @group or *`},
		{name: "sandbox path relative", args: []string{"--sandbox-paths=/ok,nix/store"},
			want: `config: sandbox-paths entry "nix/store": host path "nix/store" is not absolute`},
		{name: "range rule", env: []string{"SDBUILD_START_ID=872415233"},
			want: `config: start-id = 872415233 is not a multiple of ids-per-build (65536)`},
		{name: "toml syntax", file: "max-jobs = 2\nstate-dir = \n",
			want: `config: parse %s line 2: toml: `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "sdbuild.toml", tt.file)
			fs := pflag.NewFlagSet("sdbuild", pflag.ContinueOnError)
			if tt.flags != nil {
				tt.flags(fs)
			} else {
				AddFlags(fs)
			}
			if err := fs.Parse(tt.args); err != nil {
				t.Fatalf("Parse(%q) = %v", tt.args, err)
			}
			got, err := Load(Source{File: path, Environ: tt.env, Flags: fs})
			want := strings.ReplaceAll(tt.want, "%s", path)
			if err == nil {
				t.Fatalf("Load() = %+v, want error %q", got, want)
			}
			if strings.HasSuffix(want, " ") {
				if !strings.HasPrefix(err.Error(), want) { // the decoder's own text follows
					t.Errorf("Load() error = %q, want prefix %q", err, want)
				}
				return
			}
			if err.Error() != want {
				t.Errorf("Load() error = %q, want %q", err, want)
			}
			if !errors.Is(err, ErrInvalidValue) {
				t.Errorf("Load() error = %v, want ErrInvalidValue", err)
			}
		})
	}
}

func TestAddFlags(t *testing.T) {
	fs := pflag.NewFlagSet("sdbuild", pflag.ContinueOnError)
	AddFlags(fs)
	d := Defaults()
	for _, k := range keys {
		f := fs.Lookup(k.name)
		if f == nil {
			t.Errorf("Lookup(%q) = nil, want a flag", k.name)
			continue
		}
		var want string
		switch p := k.field(&d).(type) {
		case *[]string:
			want = "[" + strings.Join(*p, ",") + "]"
			if len(*p) == 0 {
				want = "" // help shows none (TestAddDaemonFlagsHelp)
			}
		default:
			want = fmt.Sprint(reflect.ValueOf(p).Elem())
		}
		if f.DefValue != want {
			t.Errorf("flag --%s default = %q, want %q", k.name, f.DefValue, want)
		}
		if !strings.Contains(f.Usage, envName(k.name)) {
			t.Errorf("flag --%s usage = %q, want it to name %s", k.name, f.Usage, envName(k.name))
		}
	}
	if fs.Lookup("config") == nil {
		t.Errorf(`Lookup("config") = nil, want a flag`)
	}
	// pflag itself refuses a negative uint32, before Load sees it.
	if err := fs.Parse([]string{"--start-id=-1"}); err == nil {
		t.Errorf(`Parse("--start-id=-1") = nil, want an error`)
	}
}

func TestEnvName(t *testing.T) {
	tests := map[string]string{
		"state-dir":     "SDBUILD_STATE_DIR",
		"start-id":      "SDBUILD_START_ID",
		"ids-per-build": "SDBUILD_IDS_PER_BUILD",
		"socket":        "SDBUILD_SOCKET",
	}
	for in, want := range tests {
		if got := envName(in); got != want {
			t.Errorf("envName(%q) = %q, want %q", in, got, want)
		}
	}
}

// The file's keys are matched after folding to lower case and flattening
// tables to dotted names, so an unknown key is named that way; an empty
// table names nothing; values keep the decoder's types.
func TestLoadFileKeys(t *testing.T) {
	for _, tt := range []struct {
		name    string
		file    string
		wantErr string // the whole error; %s is the file; "" means none
		check   func(c *Config) bool
	}{
		{name: "unknown key in capitals", file: "Colour = 1\n",
			wantErr: `config %s: unknown key "colour"`},
		{name: "unknown keys sorted", file: "zz = 1\n[b]\nC = 2\n[a.X]\ny = 3\n",
			wantErr: "config %s: unknown key \"a.x.y\"\nconfig %s: unknown key \"b.c\"\nconfig %s: unknown key \"zz\""},
		{name: "a key's value a table", file: "[max-jobs]\nn = 2\n",
			wantErr: `config %s: unknown key "max-jobs.n" (did you mean "max-jobs"?)`},
		{name: "an empty table", file: "max-jobs = 3\n[extra]\n",
			check: func(c *Config) bool { return c.MaxJobs == 3 }},
		{name: "a list of tables", file: "allowed-users = [{Name = \"a\"}]\n",
			wantErr: `config: allowed-users = [map[name:a]] (from %s): not a list of strings`},
		{name: "values", file: "max-jobs = 3\nstart-id = 65536\nid-count = 131072\nallowed-users = [\"alice\", \"@wheel\"]\n",
			check: func(c *Config) bool {
				return c.MaxJobs == 3 && c.StartID == 65536 && c.IDCount == 131072 && slices.Equal(c.AllowedUsers, []string{"alice", "@wheel"})
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			useDefaultFile(t, "/nonexistent/sdbuild.toml")
			path := writeFile(t, "sdbuild.toml", tt.file)
			c, err := Load(Source{File: path})
			if tt.wantErr != "" {
				want := strings.ReplaceAll(tt.wantErr, "%s", path)
				if err == nil || err.Error() != want {
					t.Fatalf("Load(%q) = %v, want error %q", tt.file, err, want)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Fatalf("Load(%q) = %+v, %v", tt.file, c, err)
			}
		})
	}
}
