package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/api"
)

func newGCCommand() *cobra.Command {
	var req api.GCRequest
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gc [--older-than AGE] [--keep N]",
		Short: "Remove finished builds' records, logs and kept build directories",
		Long: `Remove what finished builds left: their records in the history, their
logs and the build directories kept with --keep-failed. Queued and
running builds are never touched. Without options, the daemon's
keep-history, keep-logs and keep-build-dirs apply, as the daemon applies
them on its own every hour. The history file is compacted when removals
left most of it empty. Only trusted-users may collect.`,
		Example: `  sdbuild gc
  sdbuild gc --older-than 30d
  sdbuild gc --older-than 90d --keep 1000 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client(cmd)
			if err != nil {
				return err
			}
			rep, err := c.GC(context.Background(), &req)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(rep)
			}
			compacted := ""
			if rep.Compacted {
				compacted = ", compacted"
			}
			fmt.Printf("removed %d build records, %d logs (%s), %d kept build directories; history file %s%s\n",
				rep.Builds, rep.Logs, formatBytes(uint64(rep.LogBytes)), rep.Dirs, formatBytes(uint64(rep.FileBytes)), compacted)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&req.OlderThan, "older-than", "", "remove what finished builds older than `AGE` left (30d, 2w, 36h)")
	fl.IntVar(&req.Keep, "keep", 0, "keep the newest `N` finished builds' records whatever their age")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// finishedLine is sdbuild status's count of builds since the daemon
// started, by status, in a fixed order; "" before the first.
func finishedLine(n map[string]int) string {
	line := ""
	for _, st := range []api.Status{api.StatusSucceeded, api.StatusFailed, api.StatusTimedOut, api.StatusCancelled, api.StatusInterrupted} {
		if n[string(st)] > 0 {
			if line != "" {
				line += ", "
			}
			line += fmt.Sprintf("%d %s", n[string(st)], st)
		}
	}
	if line == "" {
		return ""
	}
	return "finished since start: " + line
}
