// Command sdbuild-testbed boots a throwaway systemd in fresh namespaces, runs
// one command inside it, and tears it down again: how sdbuild's integration
// tests and demos get a real systemd on machines that do not run one.
//
//	sdbuild-testbed run [--keep] [--log FILE] -- go test -tags integration ./...
//	sdbuild-testbed shell
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/testbed"
)

// exitTestbed is the exit status when the testbed itself failed (boot or
// teardown), as opposed to the command run in it.
const exitTestbed = 125

func main() {
	// The namespace stage is this binary re-executed; it must not reach the
	// flag parser.
	testbed.Reexec()
	os.Exit(execute(os.Args[1:]))
}

func execute(args []string) int {
	var o runOptions
	code := 0
	root := &cobra.Command{
		Use:           "sdbuild-testbed",
		Short:         "Run commands inside a throwaway systemd",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&o.name, "name", testbed.DefaultName, "host name inside the testbed and cgroup prefix")
	root.PersistentFlags().StringVar(&o.log, "log", "", "write systemd's console here (kept); default: a temporary file, removed on success")
	root.PersistentFlags().DurationVar(&o.bootTimeout, "boot-timeout", testbed.DefaultBootTimeout, "give up booting after this long")
	root.PersistentFlags().BoolVar(&o.keep, "keep", false, "after the command exits, keep the testbed until interrupted")

	run := &cobra.Command{
		Use:   "run [flags] -- CMD [ARGS...]",
		Short: "Boot a testbed, run CMD inside, tear down; exit with CMD's status",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, argv []string) error {
			code = runInTestbed(cmd.Context(), o, argv)
			return nil
		},
	}
	shell := &cobra.Command{
		Use:   "shell",
		Short: "Boot a testbed and start an interactive shell inside",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sh := os.Getenv("SHELL")
			if sh == "" {
				sh = "/bin/sh"
			}
			code = runInTestbed(cmd.Context(), o, []string{sh})
			return nil
		},
	}
	root.AddCommand(run, shell)
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild-testbed: %v\n", err)
		return 2
	}
	return code
}

type runOptions struct {
	name        string
	log         string
	bootTimeout time.Duration
	keep        bool
}
