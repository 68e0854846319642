package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestPickDaemon(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "sdbuild.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	plain := filepath.Join(dir, "not-a-socket")
	if err := os.WriteFile(plain, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		user, system bool
		euid         int
		socket       string
		want         bool
		wantErr      bool
	}{
		{"root means the system daemon", false, false, 0, sock, false, false},
		{"a user with a user daemon", false, false, 1000, sock, true, false},
		{"a user without one", false, false, 1000, filepath.Join(dir, "missing"), false, false},
		{"a file that is no socket", false, false, 1000, plain, false, false},
		{"--system wins over the socket", false, true, 1000, sock, false, false},
		{"--user as root", true, false, 0, filepath.Join(dir, "missing"), true, false},
		{"both flags", true, true, 1000, sock, false, true},
		{"a local action as a user", false, false, 1000, "", true, false},
		{"a local action as root", false, false, 0, "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pickDaemon(tc.user, tc.system, tc.euid, tc.socket)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("pickDaemon = %v, %v; want %v (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// subcommands names each command as the command itself does, once.
func TestSubcommandNames(t *testing.T) {
	var names []string
	for _, c := range subcommands {
		if got := c.new().Name(); got != c.name {
			t.Errorf("subcommands lists %q for the command named %q", c.name, got)
		}
		if slices.Contains(names, c.name) {
			t.Errorf("subcommands lists %q twice", c.name)
		}
		names = append(names, c.name)
	}
}

// A command line that starts with a command builds that command alone,
// the same as in the whole tree; any other gets the whole tree.
func TestRootFor(t *testing.T) {
	whole := newRootCommand()
	for _, c := range subcommands {
		root := rootFor([]string{c.name, "x"})
		if cs := root.Commands(); len(cs) != 1 || cs[0].Name() != c.name {
			t.Errorf("rootFor(%s …) built %d commands, want %s alone", c.name, len(cs), c.name)
			continue
		}
		want, _, err := whole.Find([]string{c.name})
		if err != nil {
			t.Fatal(err)
		}
		if got, w := flagsOf(root.Commands()[0]), flagsOf(want); got != w {
			t.Errorf("sdbuild %s alone has flags\n%s\nin the whole tree\n%s", c.name, got, w)
		}
	}
	for _, args := range [][]string{nil, {"--user", "status"}, {"help", "run"}, {"completion", "bash"}, {"rnu"}} {
		if n := len(rootFor(args).Commands()); n != len(whole.Commands()) {
			t.Errorf("rootFor(%q) built %d commands, want the whole tree's %d", args, n, len(whole.Commands()))
		}
	}
}

// flagsOf lists c's flags, its own and inherited, with their usage and
// defaults.
func flagsOf(c *cobra.Command) string {
	var b strings.Builder
	for _, fs := range []*pflag.FlagSet{c.LocalFlags(), c.InheritedFlags()} {
		fs.VisitAll(func(f *pflag.Flag) {
			fmt.Fprintf(&b, "--%s -%s %q %q hidden=%v\n", f.Name, f.Shorthand, f.Usage, f.DefValue, f.Hidden)
		})
	}
	return b.String()
}
