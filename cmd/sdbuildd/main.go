// Command sdbuildd is the sdbuild daemon: socket-activated by
// sdbuild.socket (or listening on --listen), it runs builds for clients,
// each in a transient systemd scope on its own UID slot.
package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	sddaemon "github.com/coreos/go-systemd/v22/daemon"
	"github.com/spf13/pflag"

	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/daemon"
	"github.com/sdbuild/sdbuild/internal/version"
	"github.com/sdbuild/sdbuild/sandbox"
	"github.com/sdbuild/sdbuild/scope"
)

func main() {
	// Before anything else: this binary is also the sandbox's init where
	// sdbuild-init is not installed beside it.
	sandbox.MaybeInit()
	fs := pflag.NewFlagSet("sdbuildd", pflag.ContinueOnError)
	config.AddFlags(fs)
	listen := fs.String("listen", "", "listen on this Unix socket `PATH` instead of socket activation")
	idle := fs.Duration("idle-exit", 0, "when socket-activated, exit after this long without builds or clients (0: never)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *showVersion {
		fmt.Println("sdbuildd", version.String())
		return
	}
	if err := run(fs, *listen, *idle); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuildd: %v\n", err)
		os.Exit(1)
	}
}

func run(fs *pflag.FlagSet, listen string, idle time.Duration) error {
	// Without root, this is a user's own daemon under the user's systemd:
	// the user's paths and ids, the user's manager for scopes.
	src := config.Source{Environ: os.Environ(), Flags: fs}
	rootless := os.Geteuid() != 0
	if rootless {
		src.User = config.CurrentAccount()
	}
	cfg, err := config.Load(src)
	if err != nil {
		return err
	}
	if err := cfg.CheckHostIDs(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey { // journald stamps every line
				return slog.Attr{}
			}
			return a
		},
	}))
	// Before any sandbox starts (the probe below, prepared sandboxes).
	initBinary, err := sandbox.UseInstalledInit(sandbox.InitName)
	switch {
	case err != nil:
		log.Warn("builds re-execute sdbuildd as their init", "err", err)
	case initBinary == "":
		log.Warn("no " + sandbox.InitName + " beside sdbuildd: builds re-execute sdbuildd as their init, which costs each build a few ms more CPU")
	}
	lns, runnerLns, activated, err := listeners(listen, cfg)
	if err != nil {
		return err
	}
	if !activated {
		idle = 0 // nothing would start us again
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	connect, unusable := scope.NewManager, error(nil)
	if rootless {
		connect = scope.NewUserManager
		if unusable = sandbox.CheckUnprivilegedUserNS(); unusable != nil {
			log.Error("refusing builds", "err", unusable)
		}
	}
	scopes, err := connect(ctx)
	if err != nil {
		return fmt.Errorf("connect to systemd: %w", err)
	}
	defer scopes.Close()
	d, err := daemon.New(daemon.Options{
		Config: cfg, Scopes: scopes, Log: log, Unusable: unusable,
		Notify:   func(s string) { sddaemon.SdNotify(false, s) },
		Prepared: daemon.PreparedSandboxes,
	})
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Recover(ctx); err != nil {
		return err
	}
	wd, _ := sddaemon.SdWatchdogEnabled(false)
	log.Info("serving", "version", version.String(), "socket", cfg.Socket, "slots", cfg.Slots(), "max_jobs", cfg.MaxJobs, "activated", activated, "rootless", rootless, "init", cmp.Or(initBinary, "sdbuildd"))
	return d.Serve(ctx, daemon.ServeOptions{Listeners: lns, RunnerListeners: runnerLns, IdleExit: idle, Watchdog: wd})
}

// runnerFDName is the FileDescriptorName of sdbuild-runner.socket.
const runnerFDName = "runner"

// listeners are the sockets systemd passed (socket activation): the API's
// and the runner service's, told apart by their FileDescriptorName. Or
// those we bind ourselves: the API at listen (--listen, else the
// configured socket) and, when the runner service is configured, its
// socket.
func listeners(listen string, cfg *config.Config) (api, runner []net.Listener, activated bool, err error) {
	if listen == "" {
		named, err := activation.ListenersWithNames()
		if err != nil {
			return nil, nil, false, fmt.Errorf("socket activation: %w", err)
		}
		for name, lns := range named {
			for _, l := range lns {
				// activation returns nil for fds it could not use.
				if l == nil {
					return nil, nil, false, fmt.Errorf("socket activation: a passed fd named %q is not a listening socket", name)
				}
				if name == runnerFDName {
					runner = append(runner, l)
				} else {
					api = append(api, l)
				}
			}
		}
		if len(api)+len(runner) > 0 {
			return api, runner, true, nil
		}
		listen = cfg.Socket
	}
	l, err := listenUnix(listen, 0o666)
	if err != nil {
		return nil, nil, false, err
	}
	api = []net.Listener{l}
	if cfg.Runner.Enabled() {
		// Only root may hand sdbuild actions, as with the unit.
		rl, err := listenUnix(cfg.Runner.Socket, 0o600)
		if err != nil {
			l.Close()
			return nil, nil, false, err
		}
		runner = []net.Listener{rl}
	}
	return api, runner, false, nil
}

// listenUnix binds a Unix socket at listen with mode (0600 for a user's
// own daemon: it serves that user alone).
func listenUnix(listen string, mode os.FileMode) (net.Listener, error) {
	dirMode := os.FileMode(0o755)
	if os.Geteuid() != 0 {
		dirMode = 0o700 // a user's own daemon's socket is the user's alone
	}
	if err := os.MkdirAll(filepath.Dir(listen), dirMode); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", listen, err)
	}
	// A socket file left by a daemon that died is in the way; a live one
	// answers, and then we must not steal its path.
	if c, err := net.Dial("unix", listen); err == nil {
		c.Close()
		return nil, fmt.Errorf("listen on %s: another sdbuildd is serving there", listen)
	}
	os.Remove(listen)
	l, err := net.Listen("unix", listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", listen, err)
	}
	// Everyone may connect to the API; what they may do follows their
	// credentials. A user's own daemon serves that user alone.
	if os.Geteuid() != 0 {
		mode = 0o600
	}
	if err := os.Chmod(listen, mode); err != nil {
		l.Close()
		return nil, fmt.Errorf("listen on %s: %w", listen, err)
	}
	return l, nil
}
