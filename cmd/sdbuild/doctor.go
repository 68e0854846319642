package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/doctor"
)

// exitDoctorFailed is doctor's status when the basic sandbox cannot run
// here; warnings and missing features alone leave it 0.
const exitDoctorFailed = 1

func newDoctorCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check whether this host can run sdbuild's sandbox and its features, and why not",
		Long: "Check privilege, namespaces and their limits, the UID range, systemd, cgroup2 and its\n" +
			"controllers, then say for each feature whether it is available. Exits 1 when the basic\n" +
			"sandbox cannot run here, 0 otherwise (warnings allowed).",
		Example: `  sdbuild doctor
  sudo sdbuild doctor --json | jq '.features'
  sdbuild doctor --start-id 2013265920   # check another id range`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			useInstalledInit()
			// A configuration that does not load is one of the findings,
			// not a reason to stop.
			// Without root, doctor checks the user's own daemon.
			var cfg *config.Config
			user, cfgErr := userMode(cmd, false)
			if cfgErr == nil {
				cfg, cfgErr = loadConfigFor(cmd, user)
			}
			r := doctor.Run(context.Background(), doctor.Options{Config: cfg, ConfigErr: cfgErr})
			var err error
			if asJSON {
				err = printJSON(r)
			} else {
				err = doctor.WriteText(os.Stdout, r)
			}
			if err != nil {
				return err
			}
			if !r.OK {
				return &statusError{code: exitDoctorFailed, msg: doctor.Summary(r)}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object with checks and features")
	config.AddDaemonFlags(cmd.Flags())
	return cmd
}
