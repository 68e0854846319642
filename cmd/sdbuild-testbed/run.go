package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/sdbuild/sdbuild/testbed"
)

// runInTestbed boots a testbed, runs argv inside with this process's stdio,
// tears the testbed down and returns the exit status to use.
func runInTestbed(ctx context.Context, o runOptions, argv []string) int {
	logFile, err := openLog(o.log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild-testbed: %v\n", err)
		return exitTestbed
	}
	defer logFile.Close()
	keepLog := o.log != "" || o.keep

	// Caught from here on, so that a signal still ends in a teardown.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, interruptSignals...)
	defer signal.Stop(sigs)

	// A signal during the boot cancels it.
	bootCtx, stopBootSignals := signal.NotifyContext(ctx, interruptSignals...)
	start := time.Now()
	tb, err := testbed.Boot(bootCtx, testbed.Options{Name: o.name, Log: logFile, BootTimeout: o.bootTimeout})
	stopBootSignals()
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild-testbed: %v\nsdbuild-testbed: console log: %s\n", err, logFile.Name())
		return exitTestbed
	}
	fmt.Fprintf(os.Stderr, "sdbuild-testbed: booted %s (pid %d, cgroup %s) in %v\n", o.name, tb.PID, tb.Cgroup, time.Since(start).Round(time.Millisecond))
	select {
	case <-sigs: // arrived as the boot finished; the boot did not see it
		tb.Close()
		return exitTestbed
	default:
	}

	code, sig := runCommand(tb, argv, sigs)
	if o.keep && sig == nil {
		fmt.Fprintf(os.Stderr, "sdbuild-testbed: command exited %d; testbed kept until interrupted\n"+
			"sdbuild-testbed: enter it with: nsenter -t %d -m -u -C -p\nsdbuild-testbed: console log: %s\n",
			code, tb.PID, logFile.Name())
		sig = <-sigs
	}
	if err := tb.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild-testbed: %v\n", err)
		code, keepLog = exitTestbed, true
	}
	if s, ok := sig.(syscall.Signal); ok && code == 0 {
		code = 128 + int(s)
	}
	if code != 0 {
		keepLog = true
	}
	if keepLog {
		fmt.Fprintf(os.Stderr, "sdbuild-testbed: console log: %s\n", logFile.Name())
	} else {
		os.Remove(logFile.Name())
	}
	return code
}

// runCommand runs argv in tb and returns its exit status, or the signal that
// made this process give up on it.
func runCommand(tb *testbed.Testbed, argv []string, sigs chan os.Signal) (int, os.Signal) {
	// nsenter does not forward signals, and a Ctrl-C that killed it would
	// end the run while the command (an interactive shell, say) carries on.
	// So nsenter starts with SIGINT and SIGQUIT ignored, and env gives the
	// command their default handling back.
	inner := append([]string{"--default-signal=SIGINT,SIGQUIT"}, argv...)
	cmd := tb.Command(context.Background(), "env", inner...)
	// Stay in the terminal's foreground process group.
	cmd.SysProcAttr, cmd.Cancel = nil, nil
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signal.Ignore(syscall.SIGINT, syscall.SIGQUIT)
	err := cmd.Start()
	signal.Notify(sigs, interruptSignals...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdbuild-testbed: start %s: %v\n", argv[0], err)
		return exitTestbed, nil
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	interrupted := false
	for {
		select {
		case err := <-done:
			return exitStatus(err), nil
		case s := <-sigs:
			// A terminal's SIGINT or SIGQUIT reached the command too: let
			// it finish, unless it comes again.
			if (s == syscall.SIGINT || s == syscall.SIGQUIT) && !interrupted {
				interrupted = true
				continue
			}
			fmt.Fprintf(os.Stderr, "sdbuild-testbed: %v: tearing down\n", s)
			return 0, s
		}
	}
}

// interruptSignals end a run: a second SIGINT or SIGQUIT, or any SIGTERM or
// SIGHUP, tears the testbed down, killing the command with it.
var interruptSignals = []os.Signal{syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP}

// exitStatus maps a command's Wait error to a shell-style exit status.
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		fmt.Fprintf(os.Stderr, "sdbuild-testbed: %v\n", err)
		return exitTestbed
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// openLog creates the console log: path, or a new temporary file.
func openLog(path string) (*os.File, error) {
	if path != "" {
		return os.Create(path)
	}
	return os.CreateTemp("", "sdbuild-testbed-*.log")
}
