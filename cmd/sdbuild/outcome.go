package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/internal/timespan"
	"github.com/sdbuild/sdbuild/slots"
)

// finished reports a final build in one line, as systemd-run --wait
// does (status, run time, CPU time, memory peak), and returns its outcome
// for the exit status. quiet prints nothing.
func finished(b *api.Build, quiet bool) error {
	err := statusOutcome(b.Status, b.ID, b.ExitCode, b.Error)
	var se *statusError
	if errors.As(err, &se) {
		se.msg += "; " + usage(b)
		se.quiet = quiet
		return se
	}
	if !quiet {
		fmt.Fprintf(os.Stderr, "sdbuild: build %s %s; %s\n", b.ID, b.Status, usage(b))
	}
	return err
}

// usage is what the build used: "ran 1.234s, CPU 456ms, memory peak 16.4M".
func usage(b *api.Build) string {
	parts := []string{"ran " + wallTime(b)}
	if cpu := cpuTime(b); cpu != "" {
		parts = append(parts, "CPU "+cpu)
	}
	if b.MemoryPeak > 0 {
		parts = append(parts, "memory peak "+formatBytes(b.MemoryPeak))
	}
	return strings.Join(parts, ", ")
}

// cpuTime is the CPU time a finished build used, "" when none was
// measured: a running build's is read when it ends.
func cpuTime(b *api.Build) string {
	if !b.Status.Finished() || b.CPUUsec == 0 {
		return ""
	}
	return timespan.Format(time.Duration(b.CPUUsec) * time.Microsecond)
}

// wallTime is how long the build ran, "-" before it started; a running
// build's ends in "…".
func wallTime(b *api.Build) string {
	switch {
	case b.Started.IsZero():
		return "-"
	case b.Finished.IsZero():
		return timespan.Format(time.Since(b.Started)) + "…"
	}
	return timespan.Format(b.Finished.Sub(b.Started))
}

// formatBytes writes a size as systemd does: powers of 1024, one decimal
// truncated ("16.4M"), bytes below 1K as "512B".
func formatBytes(n uint64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%dB", n)
	}
	f, i := n, -1
	for f >= 1024*1024 && i < len(units)-2 {
		f /= 1024
		i++
	}
	// f is now the size in units[i+1] times 1024.
	whole, tenths := f/1024, f%1024*10/1024
	return fmt.Sprintf("%d.%d%c", whole, tenths, units[i+1])
}

// jsonRefusal prints why a build was not run as an api.Error on stdout
// when --json asked for JSON, so a script reads one object either way;
// err is returned unchanged, so the exit status stays the same.
func jsonRefusal(asJSON bool, err error) error {
	if asJSON && err != nil {
		printJSON(&api.Error{Code: errorCode(err), Message: err.Error()})
	}
	return err
}

// codeUnreachable: the daemon did not answer (api.ErrNoDaemon).
const codeUnreachable = "unreachable"

// errorCode is the api.Error code for err: the daemon's own, or the one
// it would give for the same error in a --local build.
func errorCode(err error) string {
	var ae *api.Error
	switch {
	case errors.As(err, &ae):
		return ae.Code
	case errors.Is(err, api.ErrNoDaemon):
		return codeUnreachable
	case errors.Is(err, build.ErrBadRequest), errors.Is(err, config.ErrInvalidValue),
		errors.Is(err, config.ErrUnknownKey), errors.Is(err, config.ErrInvalidKey):
		return api.CodeBadRequest
	case errors.Is(err, build.ErrUnavailable):
		return api.CodeUnavailable
	case errors.Is(err, slots.ErrNoFreeSlot):
		return api.CodeConflict
	}
	return api.CodeInternal
}
