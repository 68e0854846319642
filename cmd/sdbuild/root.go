package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/internal/version"
)

// newRootCommand is the whole command tree.
func newRootCommand() *cobra.Command {
	root := newRoot()
	for _, c := range subcommands {
		root.AddCommand(c.new())
	}
	for _, c := range taggedCommands {
		root.AddCommand(c())
	}
	return root
}

// subcommands are sdbuild's commands, by the name that starts their
// command line (TestSubcommandNames keeps the names true).
var subcommands = []struct {
	name string
	new  func() *cobra.Command
}{
	{"run", newRunCommand}, {"list", newListCommand}, {"show", newShowCommand}, {"logs", newLogsCommand},
	{"cancel", newCancelCommand}, {"status", newStatusCommand}, {"install-units", newInstallUnitsCommand},
	{"bench", newBenchCommand}, {"enter", newEnterCommand}, {"doctor", newDoctorCommand},
	{"gc", newGCCommand}, {"rerun", newRerunCommand}, // gc.go, rerun.go
}

// rootFor is the command tree args need. Every start of sdbuild pays for
// the commands it builds (each a cobra command with its flags), and sdbuild
// run starts once per build: when args begin with a command's name, only
// that command is built. Anything else (a flag first, help, completion, a
// mistyped command that wants suggestions) gets the whole tree.
func rootFor(args []string) *cobra.Command {
	if len(args) > 0 {
		for _, c := range subcommands {
			if c.name == args[0] {
				root := newRoot()
				// cobra would add its completion command, unused here.
				root.CompletionOptions.DisableDefaultCmd = true
				root.AddCommand(c.new())
				return root
			}
		}
	}
	return newRootCommand()
}

// newRoot is the root command without its subcommands.
func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "sdbuild",
		Short: "Run builds in sandboxes, each on its own range of host UIDs",
		Example: `  sdbuild run -i /usr -i /bin -i /lib -i /lib64 -o ./result sh -c 'echo hi > $out/x'
  sdbuild list ; sdbuild show 1a2b ; sdbuild logs -f 1a2b ; sdbuild cancel 1a2b
  sdbuild --user status`,
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("sdbuild {{.Version}}\n")
	// Every command reaches a daemon by its socket; the daemon's own
	// settings are flags of the commands that use them (run, doctor).
	config.AddClientFlags(root.PersistentFlags())
	root.PersistentFlags().Bool("user", false, "talk to your own daemon (systemctl --user), with its configuration")
	root.PersistentFlags().Bool("system", false, "talk to the system daemon, with its configuration")
	return root
}

// taggedCommands are commands compiled in only with a build tag: gen-docs
// (gendocs.go), which make docs runs.
var taggedCommands []func() *cobra.Command

// loadConfigFor reads the whole configuration (flags > environment > file
// > defaults) of the system's or the user's own daemon, for the commands
// that act as that daemon would (run --local, doctor).
func loadConfigFor(cmd *cobra.Command, user bool) (*config.Config, error) {
	src := config.Source{Environ: os.Environ(), Flags: cmd.Flags()}
	if user {
		src.User = config.CurrentAccount()
	}
	return config.Load(src)
}

// userMode decides whether a command means the user's own daemon (and its
// configuration) or the system's: --user or --system when given; root
// always means the system daemon. Anyone else means their own, except that
// a command that talks to a daemon (bySocket) means it only when its
// socket exists ($XDG_RUNTIME_DIR/sdbuild/sdbuild.sock, made by systemctl
// --user enable --now sdbuild.socket), else the system daemon. --socket
// and $SDBUILD_SOCKET still name the socket itself.
func userMode(cmd *cobra.Command, bySocket bool) (bool, error) {
	user, _ := cmd.Flags().GetBool("user")
	system, _ := cmd.Flags().GetBool("system")
	sock := ""
	if bySocket {
		rt := os.Getenv("XDG_RUNTIME_DIR")
		if rt == "" {
			rt = fmt.Sprintf("/run/user/%d", os.Getuid())
		}
		sock = config.UserSocket(rt)
	}
	return pickDaemon(user, system, os.Geteuid(), sock)
}

// errRootUserDaemon: root asked for a user daemon to talk to or build as.
// (install-units --user as root is fine: it installs units for users.)
var errRootUserDaemon = errors.New("--user: root has no user daemon; root's builds go to the system daemon: drop --user")

// checkUserDaemon refuses --user for root where a daemon is meant: root's
// own "user configuration" would be uid 0's, whose ids are no build's.
func checkUserDaemon(user bool) error {
	if user && os.Geteuid() == 0 {
		return errRootUserDaemon
	}
	return nil
}

// pickDaemon is userMode's rule: the flags, else root means the system
// daemon, else the user's own when userSocket is "" or exists.
func pickDaemon(user, system bool, euid int, userSocket string) (bool, error) {
	switch {
	case user && system:
		return false, errors.New("--user and --system: give one")
	case user || system:
		return user, nil
	case euid == 0:
		return false, nil
	case userSocket == "":
		return true, nil
	}
	st, err := os.Stat(userSocket)
	return err == nil && st.Mode()&os.ModeSocket != 0, nil
}
