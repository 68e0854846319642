package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/units"
)

func newInstallUnitsCommand() *cobra.Command {
	var dir, bindir string
	var enable, noReload bool
	cmd := &cobra.Command{
		Use:   "install-units",
		Short: "Install sdbuild.socket, sdbuild.service and sdbuild.slice (without root: your own, for systemctl --user)",
		Example: `  sudo sdbuild install-units --enable            # the system daemon
  sdbuild install-units --enable                 # as a user: your own daemon
  sdbuild install-units --system --dir $DESTDIR/etc/systemd/system --no-reload`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, systemctl := units.System, []string{}
			user, err := userMode(cmd, false)
			if err != nil {
				return err
			}
			if user {
				set, systemctl = units.User, []string{"--user"}
			}
			if !cmd.Flags().Changed("dir") && set == units.User {
				home := os.Getenv("XDG_CONFIG_HOME")
				if home == "" {
					h, err := os.UserHomeDir()
					if err != nil {
						return fmt.Errorf("install units: %w (give --dir)", err)
					}
					home = filepath.Join(h, ".config")
				}
				dir = units.UserDir(home)
			}
			if bindir == "" {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				bindir = filepath.Dir(exe)
			}
			// A package build installs into a staging root (DESTDIR), where
			// sdbuildd is not at bindir yet, and reloads no systemd.
			if !noReload {
				if _, err := os.Stat(filepath.Join(bindir, "sdbuildd")); err != nil {
					return fmt.Errorf("install units: sdbuildd not found in %s: %w (give --bindir)", bindir, err)
				}
			}
			paths, err := set.Install(dir, bindir)
			if err != nil {
				return err
			}
			for _, p := range paths {
				fmt.Println("installed", p)
			}
			if noReload {
				return nil
			}
			reload := append(systemctl, "daemon-reload")
			if out, err := exec.Command("systemctl", reload...).CombinedOutput(); err != nil {
				return fmt.Errorf("systemctl %s: %w: %s", strings.Join(reload, " "), err, out)
			}
			if enable {
				en := append(systemctl, "enable", "--now", "sdbuild.socket")
				if out, err := exec.Command("systemctl", en...).CombinedOutput(); err != nil {
					return fmt.Errorf("systemctl %s: %w: %s", strings.Join(en, " "), err, out)
				}
				fmt.Println("enabled and started sdbuild.socket")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dir, "dir", units.SystemDir, "unit directory (without root: $XDG_CONFIG_HOME/systemd/user)")
	fl.StringVar(&bindir, "bindir", "", "directory holding sdbuildd (default: this binary's)")
	fl.BoolVar(&enable, "enable", false, "also systemctl enable --now sdbuild.socket")
	fl.BoolVar(&noReload, "no-reload", false, "only write the units (into a package's staging root): no check for sdbuildd, no systemctl")
	return cmd
}
