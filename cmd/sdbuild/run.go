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
	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/internal/listflag"
	"github.com/sdbuild/sdbuild/outputs"
	"github.com/sdbuild/sdbuild/slots"
)

type runFlags struct {
	local         bool
	inputs        []string
	output        string
	features      []string
	env           []string
	envFiles      []string
	timeout       time.Duration
	maxSilentTime time.Duration
	name          string
	json          bool
	quiet         bool
	properties    []string
	detach        bool
	unenforced    bool
	keepFailed    bool // keep.go
	keepAlways    bool
}

func newRunCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [flags] CMD [ARG...]",
		Short: "Run a build",
		Long: `Run CMD in a sandbox: new namespaces, a fresh root holding only the
read-only inputs, a writable /build, and $out (/out) whose contents land
at --output when the build succeeds. Exits with the builder's status.

Flags end at CMD, as with systemd-run and podman run: what follows is
CMD's own ("sdbuild run sh -c 'make -j4'"); "--" before CMD still works.
At the end one line gives the status, run time, CPU time and memory peak
(-q: none; only the build's output is printed).

--local also takes the daemon's settings as flags (--state-dir,
--start-id, --id-count, --ids-per-build, --max-jobs, --sandbox-paths; see
sdbuild doctor --help).`,
		Example: `  sdbuild run -i /usr -i /bin -i /lib -i /lib64 -o ./result sh -c 'echo hi > $out/x'
  sdbuild run --timeout 5min -p MemoryMax=1G -i ./src -e PATH=/usr/bin make -C /src
  sdbuild run -e HOME -e PATH --env-file build.env --json -i /usr /usr/bin/env
  sdbuild run --detach --name nightly -i /usr -- /usr/bin/sleep 60`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.local {
				if len(f.properties) > 0 || f.detach || f.keep() != "" {
					return errors.New("run --local: --property, --detach and --keep-failed need the daemon; drop --local")
				}
				return runLocal(cmd, &f, args)
			}
			for _, name := range config.DaemonFlagNames() {
				if cmd.Flags().Changed(name) {
					return fmt.Errorf("run: --%s is a setting of the daemon, used here only with --local: drop it, or set it in the daemon's configuration", name)
				}
			}
			return runRemote(cmd, &f, args)
		},
	}
	fl := cmd.Flags()
	// Flags stop at CMD: its own flags are not sdbuild's.
	fl.SetInterspersed(false)
	fl.BoolVar(&f.local, "local", false, "run the build in this process instead of the daemon (without root: on your own ids, as your daemon would)")
	listflag.Var(fl, listflag.NewArray(&f.inputs), "input", "i", "read-only input `HOST[:SANDBOX]`; a relative HOST is from the current directory (repeatable)")
	fl.StringVarP(&f.output, "output", "o", "", "create `DIR` with the build's $out when it succeeds (must not exist)")
	listflag.Var(fl, listflag.NewArray(&f.features), "feature", "", "enable a `FEATURE`: uid-range, systemd-cgroup, network, kvm, tun (repeatable)")
	listflag.Var(fl, listflag.NewArray(&f.env), "env", "e", "set `NAME=VALUE` in the build's environment; NAME alone passes this process's value (repeatable)")
	listflag.Var(fl, listflag.NewArray(&f.envFiles), "env-file", "", "read NAME=VALUE lines from `FILE` (# comments; NAME alone passes this process's value; repeatable)")
	fl.Var(timespanFlag(&f.timeout), "timeout", "kill the build after this `SPAN` (90, 90s, 5min, 1h 30s; a bare number is seconds)")
	fl.Var(timespanFlag(&f.maxSilentTime), "max-silent-time", "kill the build after this `SPAN` without output")
	fl.StringVar(&f.name, "name", "", "a name for the build, shown in listings")
	fl.BoolVar(&f.json, "json", false, "print the build (or why it was refused) as JSON on stdout; the build log goes to stderr")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but the build's output")
	listflag.Var(fl, listflag.NewArray(&f.properties), "property", "p", "set a property of the build's scope, as systemd-run -p `NAME=VALUE` (repeatable)")
	fl.BoolVar(&f.detach, "detach", false, "queue the build, print its id and return")
	addKeepFlags(fl, &f)
	fl.BoolVar(&f.unenforced, "allow-unenforced-limits", false, "run even if this host cannot enforce some --property limits (no such cgroup2 controller)")
	config.AddDaemonFlags(fl)
	// They matter to --local alone: hidden, so run's help is about runs.
	for _, name := range config.DaemonFlagNames() {
		fl.MarkHidden(name)
	}
	registerRunCompletions(cmd)
	return cmd
}

// request is the build the flags and args describe: inputs resolved from
// the current directory, environment entries with their values.
func (f *runFlags) request(args []string) (*build.Request, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("run: current directory: %w", err)
	}
	env, err := buildEnv(f.envFiles, f.env, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	out, err := absOutput(f.output)
	if err != nil {
		return nil, err
	}
	return &build.Request{
		Name: f.name, Args: args, Env: env, Inputs: resolveInputs(f.inputs, cwd), Output: out,
		Features: f.features, Properties: f.properties, Timeout: f.timeout, MaxSilentTime: f.maxSilentTime,
		Owner: outputs.Owner{UID: os.Getuid(), GID: os.Getgid()},
	}, nil
}

func runLocal(cmd *cobra.Command, f *runFlags, args []string) error {
	useInstalledInit()
	req, err := f.request(args)
	if err != nil {
		return jsonRefusal(f.json, err)
	}
	// Without root, the build runs on the user's own ids (configuration
	// of the user's daemon, whose slots it shares).
	user, err := userMode(cmd, false)
	if err == nil {
		err = checkUserDaemon(user)
	}
	if err != nil {
		return jsonRefusal(f.json, err)
	}
	cfg, err := loadConfigFor(cmd, user)
	if err != nil {
		return jsonRefusal(f.json, err)
	}
	if err := cfg.CheckHostIDs(); err != nil {
		return jsonRefusal(f.json, err)
	}
	pool, err := slots.Open(cfg.SlotOptions())
	if err != nil {
		return jsonRefusal(f.json, err)
	}
	opt := build.RunnerOptions(cfg)
	opt.Pool = pool
	runner, err := build.NewRunner(opt)
	if err != nil {
		return jsonRefusal(f.json, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	var log io.Writer = os.Stdout
	if f.json {
		log = os.Stderr
	}
	id := build.NewID()
	before := childrenUsage()
	res, err := runner.Run(ctx, id, req, log)
	if res == nil {
		return jsonRefusal(f.json, fmt.Errorf("build %s: %w", id, err))
	}
	// The same record, in the same shape, as the daemon reports.
	b := build.NewRecord(id, req, localUser(), uint32(os.Getuid()))
	b.Created = res.Started.UTC()
	res.Record(b)
	// No scope measures a local build: its CPU time is what the kernel
	// counted for this process's reaped descendants (init, which reaped
	// the builder and everything in its pid namespace).
	b.CPUUsec = childrenUsage() - before
	if err != nil {
		b.Status, b.Error = api.StatusFailed, err.Error()
	}
	if f.json {
		printJSON(b)
	}
	return finished(b, f.quiet)
}

// childrenUsage is the CPU time, in µs, of this process's reaped
// descendants.
func childrenUsage() uint64 {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_CHILDREN, &ru) != nil {
		return 0
	}
	return uint64(ru.Utime.Nano()/1000 + ru.Stime.Nano()/1000)
}

// localUser names the user running sdbuild, or gives the uid.
func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
}
