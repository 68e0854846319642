package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/config"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "sdbuild",
		Short:         "Run builds in sandboxes, each on its own range of host UIDs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	config.AddFlags(root.PersistentFlags())
	root.AddCommand(newRunCommand(), newListCommand(), newShowCommand(), newLogsCommand(),
		newCancelCommand(), newStatusCommand(), newInstallUnitsCommand(), newBenchCommand(),
		newEnterCommand(), newDoctorCommand())
	return root
}

// loadConfig reads configuration with the precedence flags > environment
// > file > defaults.
func loadConfig(cmd *cobra.Command) (*config.Config, error) {
	return config.Load(config.Source{Environ: os.Environ(), Flags: cmd.Flags()})
}
