package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/api"
)

func newListCommand() *cobra.Command {
	var o api.ListOptions
	var status []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List builds, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client(cmd)
			if err != nil {
				return err
			}
			for _, s := range status {
				o.Status = append(o.Status, api.Status(s))
			}
			bs, err := c.List(context.Background(), o)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(bs)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tUSER\tSTATUS\tSLOT\tEXIT\tCREATED\tDURATION")
			for _, b := range bs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", b.ID, dash(b.Name), b.User, b.Status,
					slotText(b.Slot), b.ExitCode, b.Created.Local().Format(time.DateTime), duration(&b))
			}
			return tw.Flush()
		},
	}
	fl := cmd.Flags()
	// Not --user: that global flag picks the user's own daemon.
	fl.StringVar(&o.User, "owner", "", "builds of this user (name or uid; others' need trusted-users)")
	fl.StringArrayVar(&status, "status", nil, "only builds in this status (repeatable)")
	fl.StringVar(&o.Name, "name", "", "only builds whose name contains this")
	fl.IntVar(&o.Limit, "limit", 50, "at most this many builds (-1: all)")
	fl.StringVar(&o.Before, "before", "", "builds created before this build `ID` (paging)")
	fl.BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

func newShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one build",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client(cmd)
			if err != nil {
				return err
			}
			b, err := c.Get(context.Background(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(b)
			}
			printBuild(os.Stdout, b)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

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
	row("Exit code", fmt.Sprint(b.ExitCode))
	row("Limit", b.Limit)
	row("Error", b.Error)
	row("Output", b.Output)
	row("Created", b.Created.Local().Format(time.RFC3339))
	if !b.Started.IsZero() {
		row("Started", b.Started.Local().Format(time.RFC3339))
	}
	if !b.Finished.IsZero() {
		row("Finished", b.Finished.Local().Format(time.RFC3339))
		row("Duration", duration(b))
	}
	if b.CPUUsec > 0 {
		row("CPU time", (time.Duration(b.CPUUsec) * time.Microsecond).String())
	}
	if b.MemoryPeak > 0 {
		row("Memory peak", fmt.Sprintf("%d bytes", b.MemoryPeak))
	}
	if b.TasksPeak > 0 {
		row("Tasks peak", fmt.Sprint(b.TasksPeak))
	}
	tw.Flush()
}

func newLogsCommand() *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs [-f] ID",
		Short: "Print a build's output",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client(cmd)
			if err != nil {
				return err
			}
			rc, err := c.Log(context.Background(), args[0], follow)
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = io.Copy(os.Stdout, rc)
			return err
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing while the build runs")
	return cmd
}

func newCancelCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a queued or running build",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client(cmd)
			if err != nil {
				return err
			}
			b, err := c.Cancel(context.Background(), args[0])
			if err != nil {
				return err
			}
			fmt.Printf("build %s %s\n", b.ID, b.Status)
			return nil
		},
	}
}

func newStatusCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the daemon's status",
		Args:  cobra.NoArgs,
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
			fmt.Printf("sdbuildd (pid %d) up since %s: %d running, %d queued, %d of %d slots free, max-jobs %d\n",
				s.PID, s.Since.Local().Format(time.DateTime), s.Running, s.Queued, s.SlotsFree, s.Slots, s.MaxJobs)
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

func duration(b *api.Build) string {
	switch {
	case b.Started.IsZero():
		return "-"
	case b.Finished.IsZero():
		return time.Since(b.Started).Round(time.Millisecond).String() + "…"
	}
	return b.Finished.Sub(b.Started).Round(time.Millisecond).String()
}
