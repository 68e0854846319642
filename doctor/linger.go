package doctor

import "fmt"

// lingerDir is where logind records lingering users, one empty file per
// user name (loginctl enable-linger).
const lingerDir = "/var/lib/systemd/linger/"

func lingerFile(user string) string { return lingerDir + user }

// checkLinger warns a user's own daemon whose user does not linger: when
// the user's last session ends, logind stops the user's systemd manager,
// and with it sdbuild.socket, sdbuildd and every build's scope, which are
// units of that manager.
func checkLinger(h *Host) []Item {
	if h.Config == nil || h.Config.Rootless == nil {
		return nil
	}
	name := h.Config.Rootless.Name
	if _, lingers := h.Files[lingerFile(name)]; lingers {
		return []Item{ok("lingering", fmt.Sprintf("user %s lingers: builds outlive your sessions", name))}
	}
	return []Item{warning("lingering", fmt.Sprintf(
		"user %s does not linger: when your last session ends, systemd stops your user manager and every build of yours with it; "+
			"run loginctl enable-linger %s to keep them running", name, name))}
}
