// Package man writes sdbuild's manual pages: sdbuild(1) and one page per
// subcommand, generated from the CLI's cobra commands, and the hand-written
// sdbuildd(8) and sdbuild.toml(5), whose keys, defaults and environment
// variables are filled in from the config package when the pages are
// written, so that no default is copied into them by hand.
package man

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

// Header is what every page's title line says besides its name.
type Header struct {
	Version string    // "sdbuild 1.2.3" is the page's source
	Date    time.Time // the tree's last commit, not the time of the build, so pages are reproducible
}

// Write writes sdbuild(1) and a page per available subcommand of root, and
// the hand-written pages, into dir/man1, dir/man5 and dir/man8. It returns
// the paths written.
func Write(root *cobra.Command, dir string, h Header) ([]string, error) {
	var written []string
	man1 := filepath.Join(dir, "man1")
	if err := os.MkdirAll(man1, 0o755); err != nil {
		return nil, fmt.Errorf("write man pages: %w", err)
	}
	// The completion command is added by cobra only when it executes;
	// it is a command users run, so it gets its page too.
	root.InitDefaultCompletionCmd()
	machineDefaults(root)
	emptyLists(root)
	date := h.Date.UTC()
	// Without a Title, cobra/doc titles each page after its command.
	hdr := &doc.GenManHeader{
		Section: "1",
		Source:  "sdbuild " + h.Version,
		Manual:  "sdbuild manual",
		Date:    &date,
	}
	if err := doc.GenManTreeFromOpts(root, doc.GenManTreeOptions{Header: hdr, Path: man1, CommandSeparator: "-"}); err != nil {
		return nil, fmt.Errorf("write man pages into %s: %w", man1, err)
	}
	for _, c := range Commands(root) {
		written = append(written, filepath.Join(man1, PageName(c)+".1"))
	}
	for _, p := range handWritten {
		path := filepath.Join(dir, "man"+p.section, p.name+"."+p.section)
		b, err := p.render(h)
		if err != nil {
			return written, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return written, fmt.Errorf("write man page %s: %w", path, err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return written, fmt.Errorf("write man page %s: %w", path, err)
		}
		written = append(written, path)
	}
	return written, nil
}

// Commands lists root and every command below it that gets a page: those
// a user can run (not hidden, not deprecated, not help), in tree order.
func Commands(root *cobra.Command) []*cobra.Command {
	cmds := []*cobra.Command{root}
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
			continue
		}
		cmds = append(cmds, Commands(c)...)
	}
	return cmds
}

// PageName is the page of c without its section: "sdbuild-run" for
// sdbuild run, as cobra/doc names it.
func PageName(c *cobra.Command) string { return strings.ReplaceAll(c.CommandPath(), " ", "-") }

// emptyLists shows the default of an empty list flag as "[]", as pages
// show pflag's own list flags' ("[]" is their zero value); listflag.Var
// leaves it empty, so that help, which shows no zero default, shows none.
func emptyLists(c *cobra.Command) {
	for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
		fs.VisitAll(func(f *pflag.Flag) {
			if _, ok := f.Value.(pflag.SliceValue); ok && f.DefValue == "" {
				f.DefValue = "[]"
			}
		})
	}
	for _, sub := range c.Commands() {
		emptyLists(sub)
	}
}

// machineDefaults shows the defaults that depend on the machine (byMachine)
// as what they are, "the number of CPUs", not as the generating machine's
// value.
func machineDefaults(c *cobra.Command) {
	for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
		for name, bm := range byMachine {
			if f := fs.Lookup(name); f != nil && f.DefValue == bm.value {
				f.DefValue = bm.text
			}
		}
	}
	for _, sub := range c.Commands() {
		machineDefaults(sub)
	}
}
