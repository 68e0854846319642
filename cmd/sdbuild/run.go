package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/outputs"
	"github.com/sdbuild/sdbuild/slots"
)

type runFlags struct {
	local         bool
	inputs        []string
	output        string
	features      []string
	env           []string
	timeout       time.Duration
	maxSilentTime time.Duration
	name          string
	json          bool
	properties    []string
	detach        bool
	unenforced    bool
}

func newRunCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [flags] -- ARGV...",
		Short: "Run a build",
		Long: `Run ARGV in a sandbox: new namespaces, a fresh root holding only the
read-only inputs, a writable /build, and $out (/out) whose contents land
at --output when the build succeeds. Exits with the builder's status.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &build.Request{
				Name: f.name, Args: args, Env: f.env, Inputs: f.inputs, Output: f.output,
				Features: f.features, Timeout: f.timeout, MaxSilentTime: f.maxSilentTime,
				Owner: outputs.Owner{UID: os.Getuid(), GID: os.Getgid()},
			}
			if f.local {
				if len(f.properties) > 0 || f.detach {
					return errors.New("run --local: --property and --detach need the daemon's scope; drop --local")
				}
				return runLocal(cmd, req, f.json)
			}
			return runRemote(cmd, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.local, "local", false, "run the build in this process instead of the daemon (without root: on your own ids, as your daemon would)")
	fl.StringArrayVarP(&f.inputs, "input", "i", nil, "read-only input `HOST[:SANDBOX]` (repeatable)")
	fl.StringVarP(&f.output, "output", "o", "", "create `DIR` with the build's $out when it succeeds (must not exist)")
	fl.StringArrayVar(&f.features, "feature", nil, "enable a feature: uid-range, systemd-cgroup, network, kvm, tun (repeatable)")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "set `KEY=VALUE` in the build's environment (repeatable)")
	fl.DurationVar(&f.timeout, "timeout", 0, "kill the build after this `DURATION` (e.g. 90s, 2m)")
	fl.DurationVar(&f.maxSilentTime, "max-silent-time", 0, "kill the build after this `DURATION` without output")
	fl.StringVar(&f.name, "name", "", "a name for the build, shown in listings")
	fl.BoolVar(&f.json, "json", false, "print the result as JSON on stdout (the build log goes to stderr)")
	fl.StringArrayVarP(&f.properties, "property", "p", nil, "set a property of the build's scope, as systemd-run -p `NAME=VALUE` (repeatable)")
	fl.BoolVar(&f.detach, "detach", false, "queue the build, print its id and return")
	fl.BoolVar(&f.unenforced, "allow-unenforced-limits", false, "run even if this host cannot enforce some --property limits (no such cgroup2 controller)")
	return cmd
}

func runLocal(cmd *cobra.Command, req *build.Request, asJSON bool) error {
	// Without root, the build runs on the user's own ids (configuration
	// of the user's daemon, whose slots it shares).
	user, err := userMode(cmd, false)
	if err != nil {
		return err
	}
	cfg, err := loadConfigFor(cmd, user)
	if err != nil {
		return err
	}
	if err := cfg.CheckHostIDs(); err != nil {
		return err
	}
	pool, err := slots.Open(cfg.SlotOptions())
	if err != nil {
		return err
	}
	opt := build.RunnerOptions(cfg)
	opt.Pool = pool
	runner, err := build.NewRunner(opt)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	var log io.Writer = os.Stdout
	if asJSON {
		log = os.Stderr
	}
	id := build.NewID()
	res, err := runner.Run(ctx, id, req, log)
	if res == nil {
		return fmt.Errorf("build %s: %w", id, err)
	}
	// The same record, in the same shape, as the daemon reports.
	b := build.NewRecord(id, req, localUser(), uint32(os.Getuid()))
	b.Created = res.Started.UTC()
	res.Record(b)
	if err != nil {
		b.Status, b.Error = api.StatusFailed, err.Error()
	}
	if asJSON {
		printJSON(b)
	}
	if err != nil {
		return fmt.Errorf("build %s: %w", id, err)
	}
	if !asJSON && b.Status == api.StatusSucceeded {
		fmt.Fprintf(os.Stderr, "sdbuild: build %s succeeded on slot %d in %s\n", b.ID, b.Slot, b.Finished.Sub(b.Started).Round(time.Millisecond))
	}
	return statusOutcome(b.Status, b.ID, b.ExitCode, b.Error)
}

// localUser names the user running sdbuild, or gives the uid.
func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
}
