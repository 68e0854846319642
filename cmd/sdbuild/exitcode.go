package main

import (
	"errors"
	"os"
	"syscall"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/slots"
)

// Exit statuses of sdbuild itself. A build that ran exits with its
// builder's status (0-255; 126/127 when the builder could not be executed
// or found; 128+n when signal n killed it), so sdbuild's own outcomes use
// the values shells and container runtimes reserve for the runner:
const (
	exitTimedOut  = 124 // --timeout or --max-silent-time killed the build (as timeout(1))
	exitSdbuild   = 125 // sdbuild failed: bad request or configuration, sandbox setup, outputs rejected (as podman/docker run)
	exitCancelled = 130 // interrupted (SIGINT/SIGTERM), the build was killed
	exitNoSlot    = 75  // all UID slots busy: try again later (EX_TEMPFAIL)
)

// statusError carries a finished build's exit status out of cobra.
type statusError struct {
	code  int
	msg   string
	quiet bool // run -q: the exit status alone reports it
}

func (e *statusError) Error() string { return e.msg }

// exitCode maps the outcome of a command to the process exit status.
func exitCode(err error) int {
	var se *statusError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &se):
		return se.code
	case errors.Is(err, slots.ErrNoFreeSlot):
		return exitNoSlot
	case isNoSlot(err):
		return exitNoSlot
	default:
		return exitSdbuild
	}
}

// statusOutcome maps a final build status to the command's outcome.
func statusOutcome(status api.Status, id string, exitCode int, msg string) error {
	switch status {
	case api.StatusSucceeded:
		return nil
	case api.StatusTimedOut:
		return &statusError{code: exitTimedOut, msg: "build " + id + ": " + msg}
	case api.StatusCancelled:
		return &statusError{code: exitCancelled, msg: "build " + id + ": cancelled, build killed"}
	case api.StatusInterrupted:
		return &statusError{code: exitSdbuild, msg: "build " + id + ": " + msg}
	}
	if exitCode == 0 {
		exitCode = exitSdbuild
	}
	return &statusError{code: exitCode, msg: "build " + id + " failed: " + msg}
}

// isNoSlot reports the daemon's refusal for want of a UID slot, which
// exits as --local's does.
func isNoSlot(err error) bool {
	var ae *api.Error
	return errors.As(err, &ae) && ae.Code == api.CodeConflict
}

// exitSignalled is the status a shell gives a command the signal sig
// ended: 128 plus its number.
func exitSignalled(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}
