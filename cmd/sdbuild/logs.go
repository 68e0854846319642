package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/api"
)

type logsFlags struct {
	follow bool
	tail   int
	since  string
}

func newLogsCommand() *cobra.Command {
	var f logsFlags
	cmd := &cobra.Command{
		Use:   "logs [-f] [-n N] [--since TIME] ID...",
		Short: "Print builds' output",
		Long: `Print each build's output, as it printed it. An ID may be any unique
prefix of a build's id; with several, each log starts with "==> ID <==".

-n/--tail N prints only the last N lines; -f keeps printing while the
build runs, until it ends (one build). --since reads the build's lines
from the journal, where each has its time: TIME is anything journalctl
--since takes ("2026-12-02 10:00", "yesterday"), or a time span ("10min",
"90") meaning that long ago.`,
		Example: `  sdbuild logs 1a2b
  sdbuild logs -f -n 20 1a2b
  sdbuild logs --since 10min 1a2b`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeBuildIDs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.follow && len(args) > 1 {
				return errors.New("logs -f: follow one build at a time")
			}
			c, err := client(cmd)
			if err != nil {
				return err
			}
			user, err := userMode(cmd, true)
			if err != nil {
				return err
			}
			return eachBuild(args, func(i int, id string) error {
				if len(args) > 1 {
					if i > 0 {
						fmt.Println()
					}
					fmt.Printf("==> %s <==\n", id)
				}
				if f.since != "" {
					return journalLogs(c, id, &f, user, os.Stdout)
				}
				return fileLogs(c, id, &f, os.Stdout)
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.follow, "follow", "f", false, "keep printing while the build runs")
	fl.IntVarP(&f.tail, "tail", "n", -1, "print only the last `N` lines (-1: all)")
	fl.StringVar(&f.since, "since", "", "print lines logged since `TIME`, from the journal")
	return cmd
}

// fileLogs prints a build's log as the daemon keeps it.
func fileLogs(c *api.Client, id string, f *logsFlags, w io.Writer) error {
	ctx := context.Background()
	if f.tail < 0 {
		rc, err := c.Log(ctx, id, f.follow)
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = io.Copy(w, rc)
		return err
	}
	// The last lines of what is there now; then, following, the rest: the
	// log only grows, so skipping what was read loses and repeats nothing.
	rc, err := c.Log(ctx, id, false)
	if err != nil {
		return err
	}
	have, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return fmt.Errorf("log of build %s: %w", id, err)
	}
	if _, err := w.Write(tailLines(have, f.tail)); err != nil || !f.follow {
		return err
	}
	rc, err = c.Log(ctx, id, true)
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := io.CopyN(io.Discard, rc, int64(len(have))); err != nil {
		return fmt.Errorf("follow log of build %s: %w", id, err)
	}
	_, err = io.Copy(w, rc)
	return err
}

// tailLines is the last n lines of b (a last line without a newline
// counts).
func tailLines(b []byte, n int) []byte {
	if n < 0 {
		return b
	}
	if n == 0 {
		return nil
	}
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end--
	}
	for i := 0; i < n; i++ {
		j := bytes.LastIndexByte(b[:end], '\n')
		if j < 0 {
			return b
		}
		if i == n-1 {
			return b[j+1:]
		}
		end = j
	}
	return b
}

// journalArgs are journalctl's arguments for -f and -n.
func (f *logsFlags) journalArgs() []string {
	var a []string
	if f.follow {
		a = append(a, "--follow")
		if f.tail >= 0 {
			// journalctl counts entries; the lifecycle entries it also
			// shows are dropped, so a few lines fewer may be printed.
			a = append(a, "--lines="+strconv.Itoa(f.tail))
		}
	}
	return a
}
