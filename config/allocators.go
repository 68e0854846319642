package config

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
// reported (IDRangeWarnings): grants shadow, LXD or podman have made
// are in /etc/subuid and refused there, and systemd-nspawn alone marks each
// range it picks with a lock file in /run/systemd/nspawn-uid/, so a slot
// pool that takes the same lock for each of its 65536-id ranges can share
// the container range with it.

// idWindow is a range of host ids another program hands out.
type idWindow struct {
	who         string // the allocator, as messages name it
	first, last uint64 // inclusive
	source      string // where the range is written down
}

// overlaps says whether [first, end) shares an id with w.
func (w idWindow) overlaps(first, end uint64) bool {
	return w.first < end && first <= w.last
}

// containerWindow is systemd's container range: systemd-nspawn's
// --private-users=pick and systemd-nsresourced hand out 65536 ids of it at
// a time.
var containerWindow = idWindow{
	"systemd's container range (systemd-nspawn --private-users=pick, systemd-nsresourced)",
	524288, 1879048191, "systemd's docs/UIDS-GIDS.md"}

// systemdWindows are systemd's fixed ranges other than the container
// range: whatever is configured, systemd hands them out on any host, and
// sdbuild needs systemd.
var systemdWindows = []idWindow{
	{"systemd-homed's home directory range", 60001, 60513, "systemd's docs/UIDS-GIDS.md"},
	{"systemd-nspawn's --bind-user range", 60514, 60577, "systemd's docs/UIDS-GIDS.md"},
	{"systemd's dynamic greeter user range", 60578, 60705, "systemd's docs/UIDS-GIDS.md"},
	{"systemd's DynamicUser= range", 61184, 65519, "systemd's docs/UIDS-GIDS.md"},
	{"systemd's foreign UID range", 2147352576, 2147418111, "systemd's docs/UIDS-GIDS.md"},
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
	"Nix's auto-allocate-uids default range", nixDefaultStartID, nixDefaultStartID + nixDefaultIDCount - 1,
	"Nix's start-id and id-count defaults"}

// otherWindows are ranges other programs allocate from that this host's
// files show only once they have allocated, if at all: reported, not
// refused.
var otherWindows = []idWindow{
	{"shadow's useradd range for new users' subordinate ids", 100000, 600100000,
		"SUB_UID_MIN and SUB_UID_MAX unless /etc/login.defs sets them"},
	{"LXD's and Incus's range without /etc/subuid", 1000000, 1000999999,
		"their default idmap, and the LXD snap's always"},
	{`podman --userns=auto's example "containers" grant`, 2147483647, 4294967294,
		"containers:2147483647:2147483648 in podman's documentation"},
}

// knownWindows returns every range in the table above.
func knownWindows() []idWindow {
	w := append([]idWindow{containerWindow, nixDefaultWindow}, systemdWindows...)
	return append(w, otherWindows...)
}
