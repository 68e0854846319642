package doctor

import (
	"fmt"
	"strings"

	"github.com/sdbuild/sdbuild/sandbox"
)

// checkFeatures derives each feature from the checks its needs (sandbox's
// table, which the build's own refusals read too) map to, so a feature is
// never reported available when a check it needs is not ok, and doctor
// lists exactly the features sdbuild run --feature knows.
func checkFeatures(h *Host, checks []Item) []Item {
	need := func(names ...string) []string {
		var unmet []string
		for _, n := range names {
			if c, found := find(checks, n); !found || c.Status == Missing {
				unmet = append(unmet, n)
			}
		}
		return unmet
	}
	rootless := h.Config != nil && h.Config.Rootless != nil
	var out []Item
	unmetOf := map[sandbox.Feature][]string{}
	for _, f := range sandbox.KnownFeatures() {
		n, _ := sandbox.NeedsOf(f)
		var unmet, have []string
		for _, kind := range n.Namespaces {
			unmet = append(unmet, need(namespaceCheck(kind))...)
		}
		if n.FullRange {
			unmet = append(unmet, fullRangeUnmet(h, rootless, need)...)
		}
		if n.Scope {
			unmet = append(unmet, need("systemd D-Bus", "cgroup2", "cgroup delegation")...)
		}
		for _, w := range n.With {
			if len(unmetOf[w.Feature]) > 0 {
				unmet = append(unmet, string(w.Feature))
			}
		}
		if n.Root && rootless {
			out = append(out, missing(string(f), "needs root: only the system daemon (sdbuild --system) can give a build "+n.Why))
			unmetOf[f] = []string{"root"}
			continue
		}
		for _, d := range n.Devices {
			dev := h.Devices[d.Path]
			switch {
			case !dev.Exists:
				unmet = append(unmet, d.Path+" (none here: "+d.Hint+")")
			case !dev.Char:
				unmet = append(unmet, d.Path+" (not a character device)")
			default:
				have = append(have, fmt.Sprintf("%s is a character device (%d:%d)", d.Path, dev.Major, dev.Minor))
			}
		}
		for _, e := range n.Executables {
			if p, ok := h.Executables[e.Name]; ok {
				have = append(have, fmt.Sprintf("%s at %s", e.Name, p))
			} else {
				unmet = append(unmet, e.String())
			}
		}
		for _, e := range n.Uses {
			if p, ok := h.Executables[e.Name]; ok {
				have = append(have, fmt.Sprintf("%s at %s runs inside", e.Name, p))
			} else {
				have = append(have, fmt.Sprintf("%s, which builds with it commonly run, is not installed (Debian package %s)", e.Name, e.Package))
			}
		}
		unmetOf[f] = unmet
		avail := "a build gets " + n.Why
		if len(have) > 0 {
			avail += "; " + strings.Join(have, ", ")
		}
		out = append(out, feature(string(f), unmet, avail))
	}
	return out
}

// fullRangeUnmet is what keeps a build from being root over a whole slot.
func fullRangeUnmet(h *Host, rootless bool, need func(...string) []string) []string {
	var unmet []string
	switch {
	case rootless && !h.Config.Rootless.HasSubIDs():
		// checkSubIDs reports only the missing grant then.
		unmet = append(need(), "a range in /etc/subuid and /etc/subgid")
	case rootless:
		unmet = need("subordinate ids", binNewuidmap, binNewgidmap)
	default:
		unmet = need("id range", "id mapping")
	}
	if h.Config != nil && h.Config.IDsPerBuild < fullRange && (!rootless || h.Config.Rootless.HasSubIDs()) {
		unmet = append(unmet, fmt.Sprintf("ids-per-build = %d (needs %d)", h.Config.IDsPerBuild, fullRange))
	}
	return unmet
}

// feature is available when nothing it needs is unmet.
func feature(name string, unmet []string, available string) Item {
	if len(unmet) == 0 {
		return ok(name, available)
	}
	return missing(name, "needs "+strings.Join(unmet, ", "))
}
