//go:build gendocs

package main

// With the gendocs build tag, sdbuild has a hidden gen-docs command that
// writes the manual pages and the shell completions from this binary's own
// commands (make docs builds it as bin/sdbuild-gendocs). The generator
// needs the command tree, which lives in this package main; as a tagged
// file here it reaches the tree without moving it into a package of its
// own, and the sdbuild that is installed carries neither the command nor
// cobra/doc and its markdown dependencies.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/doc/man"
)

func init() { taggedCommands = append(taggedCommands, newGenDocsCommand) }

func newGenDocsCommand() *cobra.Command {
	var version, epoch string
	cmd := &cobra.Command{
		Use:    "gen-docs DIR",
		Short:  "Write the man pages (DIR/man1, man5, man8) and the completions (DIR/completions)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sec, err := strconv.ParseInt(epoch, 10, 64)
			if err != nil {
				return fmt.Errorf("gen-docs: --date %q: %w (give seconds since 1970, e.g. git log -1 --format=%%ct)", epoch, err)
			}
			// A fresh tree: the one executing has gen-docs itself in it
			// and the flags this run parsed.
			root := newRootCommand()
			if _, err := man.Write(root, args[0], man.Header{Version: version, Date: time.Unix(sec, 0)}); err != nil {
				return err
			}
			return writeCompletions(root, filepath.Join(args[0], "completions"))
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "the version the pages name")
	cmd.Flags().StringVar(&epoch, "date", "0", "the pages' date in seconds since 1970: the last commit's, so pages are reproducible")
	return cmd
}

// writeCompletions writes the completion scripts under the names each
// shell looks for: bash/sdbuild, zsh/_sdbuild, fish/sdbuild.fish.
func writeCompletions(root *cobra.Command, dir string) error {
	for _, c := range []struct {
		path string
		gen  func(f *os.File) error
	}{
		{"bash/sdbuild", func(f *os.File) error { return root.GenBashCompletionV2(f, true) }},
		{"zsh/_sdbuild", func(f *os.File) error { return root.GenZshCompletion(f) }},
		{"fish/sdbuild.fish", func(f *os.File) error { return root.GenFishCompletion(f, true) }},
	} {
		p := filepath.Join(dir, c.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write completion %s: %w", p, err)
		}
		f, err := os.Create(p)
		if err != nil {
			return fmt.Errorf("write completion %s: %w", p, err)
		}
		err = c.gen(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write completion %s: %w", p, err)
		}
	}
	return nil
}
