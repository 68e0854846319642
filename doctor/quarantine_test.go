package doctor

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/slots"
)

func TestCheckQuarantine(t *testing.T) {
	tests := []struct {
		name   string
		change func(h *Host)
		want   []Item
	}{
		{"none", func(h *Host) {}, []Item{ok("quarantined slots", "none: no slot's lock file records a quarantine")}},
		{"one slot", func(h *Host) {
			h.Quarantined = []slots.Quarantine{{Slot: 3, Reason: "pid 4711 survived SIGKILL for 5s"}}
		}, []Item{warning("slot 3", "quarantined, not handed out: pid 4711 survived SIGKILL for 5s. Find why the process outlives SIGKILL "+
			"(ps -o pid,stat,wchan -p PID: a frozen cgroup, a task in D state) and end it; sdbuildd tries the slot again before each build")}},
		{"unreadable records", func(h *Host) {
			h.SlotsErr = fmt.Errorf("read slot record /var/lib/sdbuild/userpool/slot-0: %w", fs.ErrPermission)
		}, []Item{warning("quarantined slots", "cannot read slot records: read slot record /var/lib/sdbuild/userpool/slot-0: permission denied; "+
			"run doctor as the daemon's user (root for the system daemon)")}},
		{"no configuration", func(h *Host) { h.Config, h.ConfigErr = nil, fmt.Errorf("bad") }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := healthyHost()
			tt.change(h)
			got := checkQuarantine(h)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("checkQuarantine = %+v, want %+v", got, tt.want)
			}
			if len(tt.want) > 0 && !strings.Contains(fmt.Sprint(Diagnose(h).Checks), tt.want[0].Reason) {
				t.Errorf("Diagnose does not report %q", tt.want[0].Reason)
			}
		})
	}
}
