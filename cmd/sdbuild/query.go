package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/internal/listflag"
)

func newListCommand() *cobra.Command {
	var o api.ListOptions
	var status []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List builds, newest first",
		Example: `  sdbuild list
  sdbuild list --status running --status queued
  sdbuild list --owner alice --limit 10 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Status, err = parseStatuses(status); err != nil {
				return err
			}
			c, err := client(cmd)
			if err != nil {
				return err
			}
			bs, err := c.List(context.Background(), o)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(bs)
			}
			return printList(os.Stdout, bs)
		},
	}
	fl := cmd.Flags()
	// Not --user: that global flag picks the user's own daemon.
	fl.StringVar(&o.User, "owner", "", "builds of this user (name or uid; others' need trusted-users)")
	listflag.Var(fl, listflag.NewArray(&status), "status", "", "only builds in this `STATUS`: "+statusList()+" (repeatable)")
	fl.StringVar(&o.Name, "name", "", "only builds whose name contains this")
	fl.IntVar(&o.Limit, "limit", 50, "at most this many builds (-1: all)")
	fl.StringVar(&o.Before, "before", "", "builds created before this build `ID` (paging)")
	fl.BoolVar(&asJSON, "json", false, "print a JSON array")
	cmd.RegisterFlagCompletionFunc("status", completeStatuses)
	cmd.RegisterFlagCompletionFunc("before", completeBuildIDs())
	return cmd
}

func statusList() string {
	names := make([]string, len(api.Statuses))
	for i, s := range api.Statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// parseStatuses checks --status values before anything is asked: a typo
// would otherwise list nothing, as if no build had that status.
func parseStatuses(in []string) ([]api.Status, error) {
	var out []api.Status
	for _, s := range in {
		if !slices.Contains(api.Statuses, api.Status(s)) {
			return nil, fmt.Errorf("list --status %q: no such status; want one of %s", s, statusList())
		}
		out = append(out, api.Status(s))
	}
	return out, nil
}

func printList(w io.Writer, bs []api.Build) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tUSER\tSTATUS\tSLOT\tEXIT\tCREATED\tDURATION")
	for _, b := range bs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, dash(b.Name), b.User, b.Status,
			slotText(b.Slot), exitText(&b), b.Created.Local().Format(time.DateTime), wallTime(&b))
	}
	return tw.Flush()
}

// exitText is how a builder that ran to its end exited: its status, or
// its signal's name when one killed it; "-" for a build still queued or
// running, or one sdbuild ended (cancelled, timed out, interrupted), whose
// exit code says nothing.
func exitText(b *api.Build) string {
	switch {
	case b.Status != api.StatusSucceeded && b.Status != api.StatusFailed || b.Started.IsZero():
		return "-"
	case b.Signal != 0:
		return api.SignalName(b.Signal)
	}
	return fmt.Sprint(b.ExitCode)
}

func newShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID...",
		Short: "Show builds",
		Long: `Show each build: its command, status, slot, unit, times, CPU time and
memory peak. An ID may be any unique prefix of a build's id. With --json,
one JSON object per build.`,
		Example: `  sdbuild show 1a2b
  sdbuild show --json 1a2b 3c4d | jq .status`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeBuildIDs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client(cmd)
			if err != nil {
				return err
			}
			return eachBuild(args, func(i int, id string) error {
				b, err := c.Get(context.Background(), id)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(b)
				}
				if i > 0 {
					fmt.Println()
				}
				printBuild(os.Stdout, b)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object per build")
	return cmd
}

// eachBuild runs fn for each id and goes on after a failure, as systemctl
// does with several units; the error reports all failures.
func eachBuild(ids []string, fn func(i int, id string) error) error {
	var failed []error
	for i, id := range ids {
		if err := fn(i, id); err != nil {
			if len(ids) == 1 {
				return err
			}
			fmt.Fprintf(os.Stderr, "sdbuild: %v\n", err)
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d builds failed: %w", len(failed), len(ids), errors.Join(failed...))
	}
	return nil
}

// systemdTime is how systemctl status writes a time.
const systemdTime = "Mon 2006-01-02 15:04:05 MST"

func printBuild(w io.Writer, b *api.Build) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	row("ID", b.ID)
	row("Name", b.Name)
	row("User", fmt.Sprintf("%s (%d)", b.User, b.UID))
	row("Status", string(b.Status))
	row("Command", strings.Join(b.Args, " "))
	row("Features", strings.Join(b.Features, ", "))
	row("Unit", b.Unit)
	row("Slot", slotText(b.Slot))
	if e := exitText(b); e != "-" {
		row("Exit", e)
	}
	row("Limit", b.Limit)
	row("Error", b.Error)
	row("Cause", b.Cause)
	row("Cancelled by", b.CancelledBy)
	row("Output", b.Output)
	row("Created", b.Created.Local().Format(systemdTime))
	if !b.Started.IsZero() {
		row("Started", b.Started.Local().Format(systemdTime))
		row("Duration", wallTime(b))
		row("CPU", cpuTime(b))
	}
	if !b.Finished.IsZero() {
		row("Finished", b.Finished.Local().Format(systemdTime))
	}
	if b.MemoryPeak > 0 {
		row("Memory peak", formatBytes(b.MemoryPeak))
	}
	if b.TasksPeak > 0 {
		row("Tasks peak", fmt.Sprint(b.TasksPeak))
	}
	if b.IOReadBytes > 0 || b.IOWriteBytes > 0 {
		row("I/O", formatBytes(b.IOReadBytes)+" read, "+formatBytes(b.IOWriteBytes)+" written")
	}
	row("Kept directory", b.KeptDir)
	tw.Flush()
}

func newCancelCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID...",
		Short: "Cancel queued or running builds",
		Long:  "Cancel each build, queued or running (its processes are killed). An ID may be any unique prefix of a build's id.",
		Example: `  sdbuild cancel 1a2b
  sdbuild cancel $(sdbuild list --status queued --json | jq -r '.[].id')`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeBuildIDs(api.StatusQueued, api.StatusRunning),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client(cmd)
			if err != nil {
				return err
			}
			return eachBuild(args, func(_ int, id string) error {
				b, err := c.Cancel(context.Background(), id)
				if err != nil {
					return err
				}
				fmt.Printf("build %s %s\n", b.ID, b.Status)
				return nil
			})
		},
	}
}

func newStatusCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show the daemon's status",
		Example: "  sdbuild status\n  sdbuild --user status --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client(cmd)
			if err != nil {
				return err
			}
			s, err := c.Status(context.Background())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(s)
			}
			fmt.Printf("sdbuildd %s (pid %d) up since %s: %d running, %d queued, %d of %d slots free, max-jobs %d",
				dash(s.Version), s.PID, s.Since.Local().Format(systemdTime), s.Running, s.Queued, s.SlotsFree, s.Slots, s.MaxJobs)
			if s.Prepared > 0 {
				fmt.Printf(", %d sandboxes prepared", s.Prepared)
			}
			fmt.Println()
			if line := finishedLine(s.Finished); line != "" {
				fmt.Println(line)
			}
			for _, q := range s.Quarantined {
				fmt.Printf("slot %d quarantined: %s\n", q.Slot, q.Reason)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func slotText(s int) string {
	if s < 0 {
		return "-"
	}
	return fmt.Sprint(s)
}
