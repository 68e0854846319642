package doctor

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// checkCgroup reports the cgroup2 hierarchy sdbuildd's scopes live in:
// where it is, whether the host is unified or hybrid, and the kernel
// support sdbuild relies on or benefits from.
func checkCgroup(h *Host) []Item {
	var out []Item
	if h.Cgroup2Err != nil {
		out = append(out, missing("cgroup2", fmt.Sprintf("%s: sdbuildd's build scopes need cgroup2 (mount -t cgroup2 none %s)",
			oneLine(h.Cgroup2Err), cgroupMount)))
	} else {
		out = append(out, ok("cgroup2", "mounted at "+h.Cgroup2Root))
	}
	out = append(out, checkLayout(h))
	if d, present := h.file(fileDelegate); present {
		out = append(out, ok("cgroup delegation", fileDelegate+" lists what a delegated cgroup may write: "+
			strings.Join(strings.Fields(d), ", ")))
	} else {
		out = append(out, missing("cgroup delegation", h.absent(fileDelegate)+" (Linux < 4.15): a cgroup cannot be handed to a build safely"))
	}
	out = append(out, checkKill(h), checkFavorDynMods(h))
	return out
}

// bootUnified is how to boot a host whose controllers are all on cgroup2:
// systemd's switch, or the kernel's own where PID 1 is not systemd.
const bootUnified = "systemd.unified_cgroup_hierarchy=1, or cgroup_no_v1=all"

// checkLayout tells a unified host (cgroup2 on /sys/fs/cgroup) from a
// hybrid one (a tmpfs of v1 hierarchies, cgroup2 beside them) by the file
// system type of /sys/fs/cgroup.
func checkLayout(h *Host) Item {
	switch {
	case h.CgroupFS == "cgroup2":
		// Inside a container (or sdbuild-testbed) of a hybrid host,
		// /sys/fs/cgroup can be a fresh cgroup2 mount while the host's
		// controllers stay bound to v1 hierarchies; /proc/cgroups is global.
		if onV1 := v1Bound(h); len(onV1) > 0 {
			return warning("cgroup layout", fmt.Sprintf("%s is cgroup2 here, but %s are bound to cgroup v1 hierarchies (%s): the host is hybrid",
				cgroupMount, strings.Join(onV1, ", "), fileProcCgroups))
		}
		return ok("cgroup layout", "unified: "+cgroupMount+" is cgroup2")
	case h.CgroupFS == "tmpfs" && h.Cgroup2Err == nil:
		return warning("cgroup layout", fmt.Sprintf("hybrid: %s holds cgroup v1 hierarchies, cgroup2 is at %s; "+
			"limits need a unified host (boot with %s)", cgroupMount, h.Cgroup2Root, bootUnified))
	case h.CgroupFS == "tmpfs":
		return missing("cgroup layout", "legacy: "+cgroupMount+" holds only cgroup v1 hierarchies; boot with "+bootUnified)
	case h.CgroupFS == "":
		return warning("cgroup layout", "unknown: could not stat "+cgroupMount)
	}
	return warning("cgroup layout", fmt.Sprintf("unknown: %s is %s, neither cgroup2 nor a tmpfs of hierarchies", cgroupMount, h.CgroupFS))
}

// v1Bound lists the limit controllers /proc/cgroups shows bound to a
// cgroup v1 hierarchy.
func v1Bound(h *Host) []string {
	pc, _ := h.file(fileProcCgroups)
	v1 := parseProcCgroups(pc)
	var out []string
	for _, c := range limitControllers {
		if p, listed := v1[c.v1]; listed && p.enabled && p.hierarchy != 0 {
			out = append(out, c.v1)
		}
	}
	return out
}

// checkKill reports cgroup.kill (Linux 5.14), which sdbuildd writes to end
// a build and slot clearing writes to kill a crashed build's cgroup in one
// step. The kernel never creates it in the root cgroup, so a non-root
// cgroup is looked in, or else the kernel version decides.
func checkKill(h *Host) Item {
	const name = "cgroup.kill"
	if h.Cgroup2Err != nil {
		return missing(name, "no cgroup2")
	}
	if h.KillDir != "" {
		if h.HasKill {
			return ok(name, "present in "+h.KillDir)
		}
		return warning(name, fmt.Sprintf("not in %s (Linux < 5.14): sdbuildd ends builds through systemd instead, more slowly", h.KillDir))
	}
	switch at, known := kernelAtLeast(h.Kernel, 5, 14); {
	case !known:
		return warning(name, "unknown: no non-root cgroup to look in, and kernel release "+strconv.Quote(h.Kernel)+" unreadable")
	case at:
		return ok(name, "Linux "+h.Kernel+" ≥ 5.14 (the root cgroup has none, and no other cgroup existed to look in)")
	}
	return warning(name, "Linux "+h.Kernel+" < 5.14: sdbuildd ends builds through systemd instead, more slowly")
}

// checkFavorDynMods reports the cgroup2 mount option favordynmods (Linux
// 6.0). Without it moving a process into a cgroup, which starting every
// scope does, waits for an RCU grace period (10-20 ms measured here).
func checkFavorDynMods(h *Host) Item {
	const name = "favordynmods"
	if h.Cgroup2Err != nil {
		return missing(name, "no cgroup2")
	}
	mi, _ := h.file(fileMountinfo)
	if m, found := cgroup2Mount(parseMountinfo(mi), h.Cgroup2Root); found && slices.Contains(m.super, "favordynmods") {
		return ok(name, "cgroup2 is mounted with favordynmods: scope starts need not wait for an RCU grace period")
	}
	features, _ := h.file(fileCgroupFeatures)
	if !slices.Contains(strings.Fields(features), "favordynmods") {
		return warning(name, "not supported by this kernel (Linux < 6.0): each scope start waits for an RCU grace period")
	}
	return warning(name, fmt.Sprintf("%s is mounted without favordynmods: each scope start waits for an RCU grace period; "+
		"mount -o remount,favordynmods %s trades slower fork/exit for faster starts (host-wide)", h.Cgroup2Root, h.Cgroup2Root))
}

// kernelAtLeast compares a release such as "6.18.44-fc-v657" with
// major.minor; known is false when the release does not parse.
func kernelAtLeast(release string, major, minor int) (at, known bool) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false, false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(leadingDigits(parts[1])) // "1-rc1" in "6.1-rc1"
	if err1 != nil || err2 != nil {
		return false, false
	}
	return ma > major || (ma == major && mi >= minor), true
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
