package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/internal/version"
)

// client connects to the daemon at the configured socket (--socket,
// $SDBUILD_SOCKET, the file, /run/sdbuild/sdbuild.sock). It reads nothing
// else of the configuration, which is the daemon's: at most it warns.
func client(cmd *cobra.Command) (*api.Client, error) {
	user, err := userMode(cmd, true)
	if err != nil {
		return nil, err
	}
	if err := checkUserDaemon(user); err != nil {
		return nil, err
	}
	src := config.Source{Environ: os.Environ(), Flags: cmd.Flags()}
	if user {
		src.User = config.CurrentAccount()
	}
	cc, err := config.LoadClient(src)
	if err != nil {
		return nil, err
	}
	for _, w := range cc.Warnings {
		fmt.Fprintf(os.Stderr, "sdbuild: warning: %v\n", w)
	}
	c := api.NewClient(cc.Socket)
	if user {
		c.Hint = api.UserHint
	}
	if cc.Unread != "" {
		c.Hint += "; " + cc.Unread + " is not readable here: if it moves the socket, give --socket"
	}
	c.OnVersion = versionWarner()
	return c, nil
}

// versionWarner warns once when the daemon is another build than this
// client: a client and daemon from different installs explain odd errors.
func versionWarner() func(string) {
	var once sync.Once
	return func(d string) {
		if d == version.String() {
			return
		}
		once.Do(func() {
			fmt.Fprintf(os.Stderr, "sdbuild: warning: the daemon is version %s, this client %s; restart sdbuild.service after an upgrade\n", d, version.String())
		})
	}
}

// runRemote submits a build to the daemon and follows it to the end.
func runRemote(cmd *cobra.Command, f *runFlags, args []string) error {
	req, err := f.request(args)
	if err != nil {
		return jsonRefusal(f.json, err)
	}
	c, err := client(cmd)
	if err != nil {
		return jsonRefusal(f.json, err)
	}
	sr := &api.SubmitRequest{
		Name: req.Name, Args: req.Args, Env: req.Env, Inputs: req.Inputs, Output: req.Output, Features: req.Features,
		Properties: req.Properties, Timeout: api.Duration(req.Timeout), MaxSilentTime: api.Duration(req.MaxSilentTime),
		AllowUnenforcedLimits: f.unenforced, Keep: f.keep(),
	}
	ctx := context.Background()
	if f.detach {
		b, err := c.Submit(ctx, sr)
		if err != nil {
			return jsonRefusal(f.json, err)
		}
		if f.json {
			return printJSON(b)
		}
		fmt.Println(b.ID)
		return nil
	}
	// Ctrl-C cancels the build once the daemon has named it; its end
	// still comes through the events. os/signal starts a thread of its
	// own and hands it each signal to enable, and on Stop to disable,
	// waiting for it each time: about a millisecond each way on a small
	// machine. So handling is set up beside the request, not before it
	// (until then a signal ends the client, as it would before the
	// daemon named the build), and it is never stopped: the client
	// exits once the build has ended, and a signal after the end ends
	// it, as the signal would, cancelling nothing.
	sigs := make(chan os.Signal, 1)
	submitted := make(chan string, 1)
	var ended atomic.Bool
	go func() {
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
		var id string
		select {
		case id = <-submitted:
		case sig := <-sigs:
			// No id to cancel by yet: stop as the signal would have
			// (after a refusal, nothing was queued).
			if !ended.Load() {
				fmt.Fprintf(os.Stderr, "sdbuild: %v before the daemon named the build; if it was queued, sdbuild list shows it\n", sig)
			}
			os.Exit(exitSignalled(sig))
		}
		for sig := range sigs {
			if ended.Load() { // nothing left to cancel: end as the signal would
				os.Exit(exitSignalled(sig))
			}
			fmt.Fprintf(os.Stderr, "sdbuild: cancelling build %s\n", id)
			c.Cancel(context.Background(), id)
		}
	}()
	var logw io.Writer = os.Stdout
	if f.json {
		logw = os.Stderr
	}
	var final *api.Build
	b, err := c.SubmitFollow(ctx, sr, func(e *api.Event) error {
		switch e.Type {
		case api.EventSubmitted:
			// SubmitFollow checked that the first names the build; a
			// daemon that sent more must not block this send.
			select {
			case submitted <- e.Build.ID:
			default:
			}
		case api.EventQueued:
			if !f.quiet {
				fmt.Fprintf(os.Stderr, "sdbuild: waiting for a UID slot (position %d)\n", e.Position)
			}
		case api.EventStarted:
			if !f.json && !f.quiet {
				fmt.Fprintf(os.Stderr, "sdbuild: build %s running on slot %d as %s\n", e.Build.ID, e.Build.Slot, e.Build.Unit)
			}
		case api.EventLog:
			logw.Write(e.Data)
		case api.EventFinished:
			final = e.Build
		}
		return nil
	})
	ended.Store(true)
	switch {
	case err != nil && b == nil:
		// Refused, or the daemon was not reached: nothing runs.
		return jsonRefusal(f.json, err)
	case err != nil:
		return fmt.Errorf("build %s: %w (it may still run: sdbuild show %s)", b.ID, err, b.ID)
	}
	if f.json {
		printJSON(final)
	}
	return finished(final, f.quiet)
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
