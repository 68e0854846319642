package doctor

import (
	"errors"
	"fmt"
	"io/fs"
)

// checkQuarantine reports the slots that sdbuild will not hand out because
// processes holding their ids could not be killed, as their lock files
// record it; without a configuration there are no slots to look at.
func checkQuarantine(h *Host) []Item {
	if h.Config == nil || h.ConfigErr != nil {
		return nil
	}
	if h.SlotsErr != nil {
		reason := "cannot read slot records: " + oneLine(h.SlotsErr)
		if errors.Is(h.SlotsErr, fs.ErrPermission) {
			reason += "; run doctor as the daemon's user (root for the system daemon)"
		}
		return []Item{warning("quarantined slots", reason)}
	}
	if len(h.Quarantined) == 0 {
		return []Item{ok("quarantined slots", "none: no slot's lock file records a quarantine")}
	}
	items := make([]Item, len(h.Quarantined))
	for i, q := range h.Quarantined {
		items[i] = warning(fmt.Sprintf("slot %d", q.Slot), fmt.Sprintf(
			"quarantined, not handed out: %s. Find why the process outlives SIGKILL (ps -o pid,stat,wchan -p PID: a frozen cgroup, a task in D state) "+
				"and end it; sdbuildd tries the slot again before each build", squash(q.Reason)))
	}
	return items
}
