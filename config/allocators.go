package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sdbuild/sdbuild/slots"
)

// Other programs hand out host ids on their own: to containers, to builds,
// to services, to users that do not exist yet. sdbuild's range must be
// none of theirs. Two programs that give the same ids to different builds
// let each reach the other's files and processes, and sdbuild's slot
// clearing kills every process with an id in a slot, whoever started it.
//
// Who allocates what (inclusive ranges):
//
//	ids                      hex                      allocator
//	60001–60513              0x0000EA61–0x0000EC61    systemd-homed: home directories
//	60514–60577              0x0000EC62–0x0000ECA1    systemd-nspawn --bind-user: host users in containers
//	60578–60705              0x0000ECA2–0x0000ED21    systemd: dynamic greeter users
//	61184–65519              0x0000EF00–0x0000FFEF    systemd DynamicUser=; systemd-nsresourced's single ids
//	100000–600100000         0x000186A0–0x23C4CCA0    shadow's useradd: /etc/subuid grants for new users
//	                                                  (SUB_UID_MIN, SUB_UID_MAX when login.defs sets neither)
//	524288–1879048191        0x00080000–0x6FFFFFFF    systemd-nspawn --private-users=pick and
//	                                                  systemd-nsresourced: 65536 ids per container
//	1000000–1000999999       0x000F4240–0x3BAA0C3F    LXD and Incus without /etc/subuid (the LXD snap always)
//	872415232–880803839      0x34000000–0x347FFFFF    Nix auto-allocate-uids: default start-id and id-count
//	2147352576–2147418111    0x7FFE0000–0x7FFEFFFF    systemd: the foreign UID range (mountfsd's images)
//	2147483647–4294967294    0x7FFFFFFF–0xFFFFFFFE    podman --userns=auto: the "containers" grant its
//	                                                  documentation gives as the example
//
// The systemd ranges are those of systemd's docs/UIDS-GIDS.md and of
// nsresourced's allocator, which takes 65536-id ranges from the container
// range and single ids from the DynamicUser range. systemd leaves
// 0x70000000–0x7FFDFFFF unused and warns against ids at or above 2^31,
// which some code takes for signed (the kernel's devpts, setfsuid(2)).
//
// The default range, 2013265920–2021654527 (0x78000000–0x787FFFFF, 128
// slots of 65536), lies in that unused stretch: above every range in the
// table but systemd's foreign range and podman's example, below both, and
// below 2^31. It starts on a 2^27 boundary, so any power-of-two
// ids-per-build up to 2^27 divides it, and leaves headroom on both sides:
// 128 Mi ids down to the container range and 2046 slots of 65536 up to the
// foreign range, so id-count can grow in place.
//
// No range is free of an allocator that claims every id: a kubelet with
// user namespaces and no "kubelet" line in /etc/subuid assumes all ids
// above 65535 are its own. Give it a grant; grants are checked.
//
// What is refused and what only reported: ranges some program on this host
// is handing out now, or will hand out without asking anyone, are refused
// (CheckHostIDs): Nix's when nix.conf turns auto-allocate-uids on or its
// userpool2 directory shows slots it handed out, systemd's fixed ranges,
// and the container range while systemd-nsresourced listens, since it
// consults only its own registry and the user database. The rest are
// reported (HostIDReview.Warnings): Nix's range while auto-allocate-uids is off;
// useradd's and podman's, whose grants, once made, are in /etc/subuid and
// refused there; LXD's and Incus's fallback, which no file sdbuild reads
// shows in use; and the container range without nsresourced, because
// systemd-nspawn marks each range it picks with a lock file in
// /run/systemd/nspawn-uid/ (named by the range's first id), so a slot pool
// that takes the same lock for each of its 65536-id ranges can share the
// range with it, and a check at start could not see containers started
// later anyway.

// idWindow is a range of host ids another program hands out.
type idWindow struct {
	who         string // the allocator, as messages name it
	first, last uint64 // inclusive
	source      string // where the range is written down
	risk        string // what an overlap risks, when it is only reported
}

// overlaps says whether [first, end) shares an id with w.
func (w idWindow) overlaps(first, end uint64) bool {
	return w.first < end && first <= w.last
}

// containerWindow is systemd's container range: systemd-nspawn's
// --private-users=pick and systemd-nsresourced hand out 65536 ids of it at
// a time. slots, whose pool takes nspawn's locks on it, knows its bounds.
var containerWindow = idWindow{
	who:   "systemd's container range (systemd-nspawn --private-users=pick, systemd-nsresourced)",
	first: slots.NspawnPickFirst, last: slots.NspawnPickLast, source: "systemd's docs/UIDS-GIDS.md"}

// systemdWindows are systemd's fixed ranges other than the container
// range: whatever is configured, systemd hands them out on any host, and
// sdbuild needs systemd.
var systemdWindows = []idWindow{
	{who: "systemd-homed's home directory range", first: 60001, last: 60513, source: "systemd's docs/UIDS-GIDS.md"},
	{who: "systemd-nspawn's --bind-user range", first: 60514, last: 60577, source: "systemd's docs/UIDS-GIDS.md"},
	{who: "systemd's dynamic greeter user range", first: 60578, last: 60705, source: "systemd's docs/UIDS-GIDS.md"},
	{who: "systemd's DynamicUser= range", first: 61184, last: 65519, source: "systemd's docs/UIDS-GIDS.md"},
	{who: "systemd's foreign UID range", first: 2147352576, last: 2147418111, source: "systemd's docs/UIDS-GIDS.md"},
}

// Nix's defaults for start-id and id-count on Linux, which apply when
// auto-allocate-uids is on and nix.conf does not set them. Nix hands out
// slots of nixIDsPerBuild ids.
const (
	nixDefaultStartID = 0x34000000
	nixDefaultIDCount = 128 * nixIDsPerBuild
	nixIDsPerBuild    = 65536
)

// nixDefaultWindow is what Nix hands out once auto-allocate-uids is turned
// on without start-id or id-count: on a NixOS builder that is one line.
var nixDefaultWindow = idWindow{
	who:   "Nix's auto-allocate-uids default range",
	first: nixDefaultStartID, last: nixDefaultStartID + nixDefaultIDCount - 1,
	source: "Nix's start-id and id-count defaults"}

// otherWindows are ranges other programs allocate from that this host's
// files show only once they have allocated, if at all: reported, not
// refused.
var otherWindows = []idWindow{
	{"shadow's useradd range for new users' subordinate ids", 100000, 600100000,
		"SUB_UID_MIN and SUB_UID_MAX unless /etc/login.defs sets them",
		"the grants made are in /etc/subuid, which is checked, but a user added later may be granted ids of this range"},
	{"LXD's and Incus's range without /etc/subuid", 1000000, 1000999999,
		"their default idmap, and the LXD snap's always",
		"their containers would run on ids of this range, recorded nowhere sdbuild reads"},
	{`podman --userns=auto's example "containers" grant`, 2147483647, 4294967294,
		"containers:2147483647:2147483648 in podman's documentation",
		"a grant made is in /etc/subuid, which is checked, but one added later may take ids of this range"},
}

// knownWindows returns every range in the table above.
func knownWindows() []idWindow {
	w := append([]idWindow{containerWindow, nixDefaultWindow}, systemdWindows...)
	return append(w, otherWindows...)
}

// hostAllocators is what this host's files say about other allocators.
type hostAllocators struct {
	nix      nixRange
	nixPool  string   // Nix's userpool2 directory
	nixSlots []uint64 // the slots it names
	// nsresourced is the socket systemd-nsresourced listens on, "" when
	// it does not.
	nsresourced string
}

// allocatorErrors reports each range that another allocator on this host
// hands out now, or will without asking anyone, and c's range overlaps.
func (c *Config) allocatorErrors(h hostAllocators) []error {
	first, end := uint64(c.StartID), uint64(c.StartID)+uint64(c.IDCount)
	var errs []error
	clash := func(w idWindow, fix string) {
		errs = append(errs, errorf(ErrIDOverlap, "%s overlaps %s %d-%d (%s); %s",
			c.rangeText(), w.who, w.first, w.last, w.source, fix))
	}
	for _, w := range systemdWindows {
		if w.overlaps(first, end) {
			clash(w, c.suggestStart(w))
		}
	}
	if h.nsresourced != "" && containerWindow.overlaps(first, end) {
		w := containerWindow
		w.who = "systemd's container range, from which systemd-nsresourced hands out 65536 ids at a time,"
		w.source = "it listens on " + h.nsresourced
		clash(w, c.suggestStart(w)+", or stop and disable systemd-nsresourced.socket")
	}
	if h.nix.on && h.nix.count > 0 { // Nix refuses an empty range itself
		w := idWindow{who: "Nix's auto-allocate-uids range", first: h.nix.start, last: h.nix.start + h.nix.count - 1, source: h.nix.source()}
		if w.overlaps(first, end) {
			clash(w, c.suggestStart(w)+", or give Nix a start-id outside sdbuild's range")
		}
	} else if w, names := h.usedNixSlots(); names != "" && w.overlaps(first, end) {
		w.source = names + " in " + h.nixPool + ", from start-id " + strconv.FormatUint(h.nix.start, 10)
		clash(w, c.suggestStart(w)+", or remove "+h.nixPool+" if Nix no longer allocates ids")
	}
	return errs
}

// usedNixSlots returns the ids of the slots that Nix's userpool2 directory
// shows were handed out, from the first to the last, and their file names.
// The slots are counted from Nix's start-id now, the only one known.
func (h hostAllocators) usedNixSlots() (idWindow, string) {
	w := idWindow{who: "ids Nix's auto-allocate-uids has handed out on this host", first: math.MaxUint64}
	var names []string
	for _, n := range h.nixSlots {
		first := h.nix.start + n*nixIDsPerBuild
		if first+nixIDsPerBuild-1 >= math.MaxUint32 {
			continue // Nix never hands out ids past (uid_t)-1
		}
		w.first, w.last = min(w.first, first), max(w.last, first+nixIDsPerBuild-1)
		names = append(names, fmt.Sprintf("slot-%d", n))
	}
	return w, strings.Join(names, ", ")
}

// allocatorWarnings is HostIDReview.Warnings on the facts of h.
func (c *Config) allocatorWarnings(h hostAllocators) []string {
	first, end := uint64(c.StartID), uint64(c.StartID)+uint64(c.IDCount)
	var warns []string
	warn := func(w idWindow, why string) {
		warns = append(warns, fmt.Sprintf("the range overlaps %s %d-%d (%s): %s; to be sure, %s",
			w.who, w.first, w.last, w.source, why, c.suggestStart(w)))
	}
	if h.nsresourced == "" && containerWindow.overlaps(first, end) {
		warn(containerWindow, "systemd-nspawn -U picks container ranges from it (as root, sdbuild holds nspawn's lock on each range of a leased slot, so nspawn passes those by, and a slot whose range a container holds waits), and systemd-nsresourced would hand them out if enabled")
	}
	if !h.nix.on {
		w := nixDefaultWindow
		if h.nix.startAt != nil || h.nix.countAt != nil {
			w = idWindow{who: "the range Nix's auto-allocate-uids would use",
				first: h.nix.start, last: h.nix.start + h.nix.count - 1, source: "start-id and id-count in nix.conf"}
		}
		if w.overlaps(first, end) {
			warn(w, "a Nix daemon given auto-allocate-uids = true would hand these ids to its builds")
		}
	}
	for _, w := range otherWindows {
		if w.overlaps(first, end) {
			warn(w, w.risk)
		}
	}
	return warns
}

// rangeText describes c's id range for messages.
func (c *Config) rangeText() string {
	return fmt.Sprintf("id range %d-%d (start-id %d, id-count %d)",
		c.StartID, uint64(c.StartID)+uint64(c.IDCount)-1, c.StartID, c.IDCount)
}

// suggestStart returns what to set start-id to so that the range is clear
// of w and of every known allocator: sdbuild's default if that fits id-count
// and ids-per-build, else the first slot boundary after w.
func (c *Config) suggestStart(w idWindow) string {
	per := uint64(max(c.IDsPerBuild, 1))
	after := (w.last/per + 1) * per
	for _, start := range []uint64{uint64(Defaults().StartID), after} {
		end := start + uint64(c.IDCount)
		if start%per != 0 || end > math.MaxUint32 {
			continue
		}
		free := true
		for _, k := range append(knownWindows(), w) {
			free = free && !k.overlaps(start, end)
		}
		if free {
			return fmt.Sprintf("set start-id to %d", start)
		}
	}
	return fmt.Sprintf("choose a start-id outside %d-%d", w.first, w.last)
}
