package api

import (
	"fmt"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ExitText says how a builder ended, as systemd and shells name it: "exited
// with status 3", "killed by signal SEGV (core dumped)". A death by signal
// never reads as the 128+n a shell would make of it.
func ExitText(exitCode, signal int, coreDumped bool) string {
	if signal == 0 {
		return fmt.Sprintf("exited with status %d", exitCode)
	}
	core := "core not dumped"
	if coreDumped {
		core = "core dumped"
	}
	return fmt.Sprintf("killed by signal %s (%s)", SignalName(signal), core)
}

// SignalName is a signal's name without "SIG" ("SEGV"), or its number.
func SignalName(n int) string {
	if name := unix.SignalName(syscall.Signal(n)); name != "" {
		return strings.TrimPrefix(name, "SIG")
	}
	return fmt.Sprint(n)
}

// OOMText says that the kernel's OOM killer ended a build, and under which
// limit ("MemoryMax=1G"), or "" when none was set.
func OOMText(limit string) string {
	return "killed by the OOM killer" + underLimit(limit)
}

// OOMProcessText says that the kernel's OOM killer killed a process of a
// build that failed on its own account, and under which limit, as OOMText.
func OOMProcessText(limit string) string {
	return "the OOM killer killed a process of the build" + underLimit(limit)
}

// underLimit is " (MemoryMax=1G)" for a limit, "" for none.
func underLimit(limit string) string {
	if limit == "" {
		return ""
	}
	return " (" + limit + ")"
}
