package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/units"
)

func newInstallUnitsCommand() *cobra.Command {
	var dir, bindir string
	var enable bool
	cmd := &cobra.Command{
		Use:   "install-units",
		Short: "Install sdbuild.socket, sdbuild.service and sdbuild.slice",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if bindir == "" {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				bindir = filepath.Dir(exe)
			}
			if _, err := os.Stat(filepath.Join(bindir, "sdbuildd")); err != nil {
				return fmt.Errorf("install units: sdbuildd not found in %s: %w (give --bindir)", bindir, err)
			}
			paths, err := units.Install(dir, bindir)
			if err != nil {
				return err
			}
			for _, p := range paths {
				fmt.Println("installed", p)
			}
			if out, err := exec.Command("systemctl", "daemon-reload").CombinedOutput(); err != nil {
				return fmt.Errorf("systemctl daemon-reload: %w: %s", err, out)
			}
			if enable {
				if out, err := exec.Command("systemctl", "enable", "--now", "sdbuild.socket").CombinedOutput(); err != nil {
					return fmt.Errorf("systemctl enable --now sdbuild.socket: %w: %s", err, out)
				}
				fmt.Println("enabled and started sdbuild.socket")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dir, "dir", units.SystemDir, "unit directory")
	fl.StringVar(&bindir, "bindir", "", "directory holding sdbuildd (default: this binary's)")
	fl.BoolVar(&enable, "enable", false, "also systemctl enable --now sdbuild.socket")
	return cmd
}
