package main

import (
	"errors"

	"github.com/sdbuild/sdbuild/build"
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
	code int
	msg  string
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
	default:
		return exitSdbuild
	}
}

// resultError turns a finished build into the command's outcome.
func resultError(r *build.Result) error {
	switch r.Status {
	case build.Succeeded:
		return nil
	case build.TimedOut:
		return &statusError{code: exitTimedOut, msg: "build " + r.ID + ": " + r.Error}
	case build.Cancelled:
		return &statusError{code: exitCancelled, msg: "build " + r.ID + ": cancelled, build killed"}
	}
	code := r.ExitCode
	if code == 0 {
		code = exitSdbuild
	}
	return &statusError{code: code, msg: "build " + r.ID + " failed: " + r.Error}
}
