package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/internal/treediff"
)

// exitNotReproducible is rerun --check's status when the outputs differ,
// as nix build --rebuild's.
const exitNotReproducible = 1

func newRerunCommand() *cobra.Command {
	var output string
	var check, asJSON bool
	var show int
	cmd := &cobra.Command{
		Use:   "rerun [--check] [-o DIR] ID",
		Short: "Run a finished build again, from its recorded request",
		Long: `Run build ID again with the request the history recorded: command,
environment, inputs, features, properties and limits. The rerun is a new
build by you; only the build's own user may rerun it, and its inputs are
checked and opened as you again.

--check runs it on another UID slot when one is free, with its output
beside the first build's (DIR.check), and compares the two trees: paths,
types, modes, symlink targets and a SHA-256 per file. It prints the first
differences and exits 1 when the build did not reproduce, keeping the
rerun's output to examine; when the trees are the same the copy is
removed.`,
		Example: `  sdbuild rerun 3f2a
  sdbuild rerun -o ./result-again 3f2a
  sdbuild rerun --check --show 20 3f2a`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client(cmd)
			if err != nil {
				return err
			}
			ctx := context.Background()
			rr := &api.RerunRequest{OtherSlot: check}
			var first *api.Build
			if check {
				if first, err = c.Get(ctx, args[0]); err != nil {
					return err
				}
				if first.Status != api.StatusSucceeded || first.Output == "" {
					return fmt.Errorf("rerun --check %s: the build %s and kept no output (--output): --check compares output trees", first.ID, first.Status)
				}
				// Compared after the rerun: a first output gone by now
				// is refused before anything runs.
				if _, err := os.Stat(first.Output); err != nil {
					return fmt.Errorf("rerun --check %s: the first build's output: %w; --check compares against it", first.ID, err)
				}
				if output == "" {
					output = first.Output + ".check"
				}
			}
			if output != "" {
				if rr.Output, err = filepath.Abs(output); err != nil {
					return err
				}
			}
			b, err := c.Rerun(ctx, args[0], rr)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "sdbuild: rerunning build %s as build %s\n", args[0], b.ID)
			final, err := followBuild(ctx, c, b, asJSON)
			if err != nil {
				return err
			}
			if !check || final.Status != api.StatusSucceeded {
				if asJSON {
					printJSON(final)
				}
				return statusOutcome(final.Status, final.ID, final.ExitCode, final.Error)
			}
			return compareOutputs(os.Stdout, first, final, show, asJSON)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&output, "output", "o", "", "create `DIR` with the rerun's $out (must not exist; --check: the first build's output with .check appended)")
	fl.BoolVar(&check, "check", false, "run on another slot and compare the output with the first build's")
	fl.IntVar(&show, "show", 10, "--check: print at most `N` differences")
	fl.BoolVar(&asJSON, "json", false, "print the rerun's record as JSON (the build log goes to stderr)")
	return cmd
}

// checkResult is rerun --check's --json.
type checkResult struct {
	First       string   `json:"first"`
	Rerun       string   `json:"rerun"`
	Slots       [2]int   `json:"slots"`
	Reproduced  bool     `json:"reproduced"`
	Differences []string `json:"differences,omitempty"`
}

// compareOutputs compares the first build's output with the rerun's, as
// the user running sdbuild: both trees are theirs.
func compareOutputs(w io.Writer, first, rerun *api.Build, show int, asJSON bool) error {
	ta, err := treediff.Read(first.Output)
	if err != nil {
		return fmt.Errorf("rerun --check: %w", err)
	}
	tb, err := treediff.Read(rerun.Output)
	if err != nil {
		return fmt.Errorf("rerun --check: %w", err)
	}
	diffs := treediff.Compare(ta, tb)
	res := checkResult{First: first.ID, Rerun: rerun.ID, Slots: [2]int{first.Slot, rerun.Slot}, Reproduced: len(diffs) == 0}
	for i, d := range diffs {
		if i == show {
			break
		}
		res.Differences = append(res.Differences, d.String())
	}
	if asJSON {
		printJSON(res)
	} else if res.Reproduced {
		fmt.Fprintf(w, "build %s reproduced: %d entries identical (slots %d and %d)\n", first.ID, len(ta), first.Slot, rerun.Slot)
	} else {
		plural := "s"
		if len(diffs) == 1 {
			plural = ""
		}
		fmt.Fprintf(w, "build %s is not reproducible: %d difference%s between %s and %s (slots %d and %d)\n",
			first.ID, len(diffs), plural, first.Output, rerun.Output, first.Slot, rerun.Slot)
		for _, d := range res.Differences {
			fmt.Fprintln(w, "  "+d)
		}
		if len(diffs) > show {
			fmt.Fprintf(w, "  … and %d more\n", len(diffs)-show)
		}
	}
	if res.Reproduced {
		return os.RemoveAll(rerun.Output)
	}
	return &statusError{code: exitNotReproducible, msg: fmt.Sprintf("build %s: not reproducible (rerun %s kept at %s)", first.ID, rerun.ID, rerun.Output)}
}

// followBuild prints a submitted build's log as it comes and returns its
// final record.
func followBuild(ctx context.Context, c *api.Client, b *api.Build, asJSON bool) (*api.Build, error) {
	var logw io.Writer = os.Stdout
	if asJSON {
		logw = os.Stderr
	}
	var final *api.Build
	err := c.Events(ctx, b.ID, func(e *api.Event) error {
		switch e.Type {
		case api.EventQueued:
			fmt.Fprintf(os.Stderr, "sdbuild: waiting for a UID slot (position %d)\n", e.Position)
		case api.EventLog:
			logw.Write(e.Data)
		case api.EventFinished:
			final = e.Build
		}
		return nil
	})
	if err == nil && final == nil {
		err = errors.New("the event stream ended without the build's end")
	}
	if err != nil {
		return nil, fmt.Errorf("build %s: %w (it may still run: sdbuild show %s)", b.ID, err, b.ID)
	}
	return final, nil
}
