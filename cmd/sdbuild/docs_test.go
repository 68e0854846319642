package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/sdbuild/sdbuild/doc/man"
)

// Every command a user can run has its page, naming each of its options,
// and sdbuild(1) points to the top-level ones.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	root := newRootCommand()
	if _, err := man.Write(root, dir, man.Header{Version: "test", Date: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	cmds := man.Commands(root)
	if len(cmds) < 12 {
		t.Fatalf("man.Commands = %d commands, want sdbuild and every subcommand", len(cmds))
	}
	top, err := os.ReadFile(filepath.Join(dir, "man1", "sdbuild.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cmds {
		page := filepath.Join(dir, "man1", man.PageName(c)+".1")
		b, err := os.ReadFile(page)
		if err != nil {
			t.Errorf("%s: no page: %v", c.CommandPath(), err)
			continue
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && !strings.Contains(string(b), `\fB--`+f.Name+`\fP`) {
				t.Errorf("%s: its page lacks --%s", page, f.Name)
			}
			// An empty list's default reads "[]", as pflag's own
			// list flags' did, though help shows none.
			if sv, ok := f.Value.(pflag.SliceValue); ok && !f.Hidden && len(sv.GetSlice()) == 0 &&
				!strings.Contains(string(b), `\fB--`+f.Name+`\fP=[]`) {
				t.Errorf("%s: --%s's empty default is not shown as []", page, f.Name)
			}
		})
		if c.Parent() == root && !strings.Contains(string(top), `\fB`+man.PageName(c)+`(1)\fP`) {
			t.Errorf("sdbuild(1) does not point to %s(1)", man.PageName(c))
		}
	}
	for _, name := range []string{"run", "enter", "install-units", "completion"} {
		if c, _, err := root.Find([]string{name}); err != nil || c == root {
			t.Errorf("sdbuild %s: not found (%v)", name, err)
		}
	}
}

// gen-docs is compiled in only with the gendocs tag (make docs), and
// nothing hidden gets a page.
func TestGenDocsNotInBinary(t *testing.T) {
	root := newRootCommand()
	for _, c := range man.Commands(root) {
		if c.Hidden || c.Name() == "gen-docs" {
			t.Errorf("man.Commands includes %s", c.CommandPath())
		}
	}
	c, _, err := root.Find([]string{"gen-docs"})
	if found, tagged := err == nil && c != root, len(taggedCommands) > 0; found != tagged {
		t.Errorf("sdbuild has gen-docs: %v, built with the gendocs tag: %v", found, tagged)
	} else if found && !c.Hidden {
		t.Error("gen-docs is not hidden")
	}
}
