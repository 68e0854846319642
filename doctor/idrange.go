package doctor

import (
	"fmt"
	"strings"

	"github.com/sdbuild/sdbuild/internal/idmap"
)

// fullRange is the ids a build needs to be root over a whole 16-bit range,
// as nested containers and Nix's uid-range expect.
const fullRange = 65536

// checkIDRange reports the configured id range: loadable, clashing with no
// host user, group or subordinate id and with no ids Nix or systemd hand
// out (what the daemon refuses to start with), mapped in our user
// namespace, and apart from the ranges other allocators might hand out.
func checkIDRange(h *Host) []Item {
	if h.ConfigErr != nil || h.Config == nil {
		reason := "no configuration"
		if h.ConfigErr != nil {
			reason = oneLine(h.ConfigErr)
		}
		return []Item{
			required(missing("id range", reason)),
			warning("id mapping", "not checked: the configuration did not load"),
		}
	}
	c := h.Config
	if c.Rootless != nil {
		return checkSubIDs(h)
	}
	first, last := uint64(c.StartID), uint64(c.StartID)+uint64(c.IDCount)-1
	rangeItem := required(ok("id range", fmt.Sprintf("ids %d-%d: %d slots of %d, clashing with no user, group or subordinate id, "+
		"nor with ids Nix or systemd hand out", first, last, c.Slots(), c.IDsPerBuild)))
	if h.HostIDsErr != nil {
		rangeItem = required(missing("id range", oneLine(h.HostIDsErr)))
	}
	return []Item{rangeItem, required(checkIDMapping(h, first, last)), checkAllocators(h)}
}

// checkAllocators reports the ranges that other allocators might hand out
// and the id range overlaps: a warning, since nothing hands them out yet
// as far as this host's files show (or what does coordinates through a
// lock, as systemd-nspawn does), but a range apart from them needs no such
// care.
func checkAllocators(h *Host) Item {
	if len(h.IDRangeWarnings) == 0 {
		return ok("id allocators", "the range is apart from what systemd-nspawn, Nix, useradd, LXD and podman might hand out")
	}
	return warning("id allocators", squash(strings.Join(h.IDRangeWarnings, "\n")))
}

// checkSubIDs reports a user's own daemon's ids: the subordinate ranges
// its slots are carved from and the newuidmap and newgidmap that map them,
// or, without a grant, that builds get the user's single id and the line
// that would grant a range.
func checkSubIDs(h *Host) []Item {
	r := h.Config.Rootless
	if !r.HasSubIDs() {
		return []Item{warning("subordinate ids", fmt.Sprintf("none: every build runs as your uid %d, and uid-range and systemd-cgroup are refused. %s",
			r.UID, oneLine(r.NoSubIDsError())))}
	}
	c := h.Config
	items := []Item{required(ok("subordinate ids", fmt.Sprintf("uids %d-%d (%s line %d), gids from %d (%s line %d): %d slots of %d",
		c.StartID, uint64(c.StartID)+uint64(c.IDCount)-1, r.SubUID.File, r.SubUID.Line,
		c.StartGID(), r.SubGID.File, r.SubGID.Line, c.Slots(), c.IDsPerBuild)))}
	if h.HostIDsErr != nil {
		items[0] = required(missing("subordinate ids", oneLine(h.HostIDsErr)))
	}
	for _, bin := range []string{binNewuidmap, binNewgidmap} {
		if p, found := h.Executables[bin]; found {
			items = append(items, required(ok(bin, p)))
		} else {
			items = append(items, required(missing(bin, "not found: it maps your subordinate ids into builds; install the uidmap package")))
		}
	}
	return items
}

// checkIDMapping checks that every id of the range is mapped in this
// process's user namespace: the kernel lets a uid_map name only ids its
// writer's namespace maps, so in a container that maps fewer ids no build
// could be given them.
func checkIDMapping(h *Host, first, last uint64) Item {
	for _, f := range []struct{ path, kind string }{{fileUIDMap, "uid"}, {fileGIDMap, "gid"}} {
		content, present := h.file(f.path)
		if !present {
			return missing("id mapping", h.absent(f.path))
		}
		maps, err := idmap.Parse(strings.NewReader(content))
		if err != nil {
			return missing("id mapping", fmt.Sprintf("read %s: %v", f.path, err))
		}
		if gap, uncovered := idmap.Uncovered(maps, first, last-first+1); uncovered {
			return missing("id mapping", fmt.Sprintf("%s %d of the range is not mapped in this user namespace (%s maps only %s); "+
				"run sdbuild where the range is mapped, or choose start-id and id-count inside the map", f.kind, gap, f.path, idmap.String(maps)))
		}
	}
	return ok("id mapping", "the whole range is mapped in this user namespace")
}

// oneLine turns a possibly multi-line error (errors.Join) into one line.
func oneLine(err error) string { return squash(err.Error()) }

// squash puts multi-line text on one line, lines apart by "; ".
func squash(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ")
}
