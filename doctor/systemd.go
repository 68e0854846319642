package doctor

import "fmt"

// checkSystemd reports whether systemd answers over D-Bus (sdbuildd needs it
// for every build's scope) and whether it is PID 1.
func checkSystemd(h *Host) []Item {
	bus := ok("systemd D-Bus", "systemd answers over D-Bus: sdbuildd can start build scopes")
	if h.SystemdErr != nil {
		bus = missing("systemd D-Bus", "sdbuildd cannot start build scopes (run --local works without): "+oneLine(h.SystemdErr))
	}
	pid1 := ok("systemd PID 1", "/run/systemd/system exists: PID 1 is systemd")
	if !h.SystemdBooted {
		who := "PID 1"
		if comm, ok := h.file(filePID1Comm); ok && comm != "" {
			who = fmt.Sprintf("PID 1 (%s)", comm)
		}
		pid1 = missing("systemd PID 1", who+" is not systemd (no /run/systemd/system): install sdbuild's units on a systemd host, or use sdbuild-testbed")
	}
	return []Item{bus, pid1}
}
