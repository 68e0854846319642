// Command sdbuildd is the sdbuild daemon: socket-activated by
// sdbuild.socket (or listening on --listen), it runs builds for clients,
// each in a transient systemd scope on its own UID slot.
package main

import (
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
	// Before anything else: this binary is also the sandbox's init.
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
	lns, activated, err := listeners(listen, cfg.Socket)
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
		Notify: func(s string) { sddaemon.SdNotify(false, s) },
	})
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Recover(ctx); err != nil {
		return err
	}
	wd, _ := sddaemon.SdWatchdogEnabled(false)
	log.Info("serving", "version", version.String(), "socket", cfg.Socket, "slots", cfg.Slots(), "max_jobs", cfg.MaxJobs, "activated", activated, "rootless", rootless)
	return d.Serve(ctx, daemon.ServeOptions{Listeners: lns, IdleExit: idle, Watchdog: wd})
}

// listeners are the sockets systemd passed (socket activation), or one we
// bind ourselves at path (--listen, else the configured socket).
func listeners(listen, socket string) ([]net.Listener, bool, error) {
	if listen == "" {
		lns, err := activation.Listeners()
		if err != nil {
			return nil, false, fmt.Errorf("socket activation: %w", err)
		}
		var ok []net.Listener
		for i, l := range lns {
			// activation.Listeners returns nil for fds it could not use.
			if l == nil {
				return nil, false, fmt.Errorf("socket activation: passed fd %d is not a listening socket", 3+i)
			}
			ok = append(ok, l)
		}
		if len(ok) > 0 {
			return ok, true, nil
		}
		listen = socket
	}
	dirMode := os.FileMode(0o755)
	if os.Geteuid() != 0 {
		dirMode = 0o700 // a user's own daemon's socket is the user's alone
	}
	if err := os.MkdirAll(filepath.Dir(listen), dirMode); err != nil {
		return nil, false, fmt.Errorf("listen on %s: %w", listen, err)
	}
	// A socket file left by a daemon that died is in the way; a live one
	// answers, and then we must not steal its path.
	if c, err := net.Dial("unix", listen); err == nil {
		c.Close()
		return nil, false, fmt.Errorf("listen on %s: another sdbuildd is serving there", listen)
	}
	os.Remove(listen)
	l, err := net.Listen("unix", listen)
	if err != nil {
		return nil, false, fmt.Errorf("listen on %s: %w", listen, err)
	}
	// Everyone may connect; what they may do follows their credentials.
	// A user's own daemon serves that user alone.
	mode := os.FileMode(0o666)
	if os.Geteuid() != 0 {
		mode = 0o600
	}
	if err := os.Chmod(listen, mode); err != nil {
		l.Close()
		return nil, false, fmt.Errorf("listen on %s: %w", listen, err)
	}
	return []net.Listener{l}, false, nil
}
