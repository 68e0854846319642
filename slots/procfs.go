package slots

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// This file parses procfs text. It is pure so it can be table-tested from
// strings; the reads themselves live in the _linux.go files.

// procIDs are a thread's credentials from /proc/PID/status: real,
// effective, saved and filesystem uid and gid, in that order, and its
// supplementary groups; threads is the size of its thread group.
type procIDs struct {
	uid, gid [4]uint32
	groups   []uint32
	threads  int
}

// inRange reports whether any of the four uids lies in the slot's uids, or
// any of the four gids or a supplementary group in its gids. Any one is
// enough: a process that kept even its saved or fs id in a slot's range can
// act as that slot's next build (signal and ptrace it, or open its files),
// and a supplementary group opens whatever the build made group-accessible.
func (p procIDs) inRange(s slotIDs) bool {
	for i := range 4 {
		if s.uids.contains(p.uid[i]) || s.gids.contains(p.gid[i]) {
			return true
		}
	}
	for _, g := range p.groups {
		if s.gids.contains(g) {
			return true
		}
	}
	return false
}

// parseStatus reads the Uid:, Gid:, Groups: and Threads: lines of a
// /proc/PID/status file. Uid: and Gid: are required; a file without
// Groups: (none are listed for some kernel threads) has no groups, and
// one without Threads: counts as a single thread.
func parseStatus(b []byte) (procIDs, error) {
	ids := procIDs{threads: 1}
	var seenUID, seenGID bool
	for line := range bytes.Lines(b) {
		key, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var err error
		switch string(key) {
		case "Uid":
			seenUID = true
			err = parseIDs(val, ids.uid[:])
		case "Gid":
			seenGID = true
			err = parseIDs(val, ids.gid[:])
		case "Groups":
			ids.groups, err = parseGroups(val)
		case "Threads":
			ids.threads, err = strconv.Atoi(string(bytes.TrimSpace(val)))
		default:
			continue
		}
		if err != nil {
			return procIDs{}, fmt.Errorf("parse status line %q: %w", bytes.TrimSpace(line), err)
		}
	}
	if !seenUID || !seenGID {
		return procIDs{}, fmt.Errorf("parse status: missing Uid: or Gid: line")
	}
	return ids, nil
}

// parseIDs fills dst with the ids of one Uid: or Gid: line.
func parseIDs(val []byte, dst []uint32) error {
	f := bytes.Fields(val)
	if len(f) != len(dst) {
		return fmt.Errorf("want %d ids, got %d", len(dst), len(f))
	}
	for i, s := range f {
		v, err := strconv.ParseUint(string(s), 10, 32)
		if err != nil {
			return err
		}
		dst[i] = uint32(v)
	}
	return nil
}

// parseGroups reads a Groups: line, which may be empty.
func parseGroups(val []byte) ([]uint32, error) {
	f := bytes.Fields(val)
	if len(f) == 0 {
		return nil, nil
	}
	gs := make([]uint32, len(f))
	for i, s := range f {
		v, err := strconv.ParseUint(string(s), 10, 32)
		if err != nil {
			return nil, err
		}
		gs[i] = uint32(v)
	}
	return gs, nil
}

// parseStat returns field 3 (state, e.g. 'S', 'D', 'Z') and field 22 (start
// time in clock ticks since boot) of /proc/PID/stat. Field 2 (comm) is in
// parentheses and may itself contain spaces and ')', so fields are counted
// from the last ')'.
func parseStat(b []byte) (state byte, start uint64, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("parse stat %.40q: no comm field", b)
	}
	f := strings.Fields(string(b[i+1:]))
	const startField = 22 - 3 // f[0] is field 3
	if len(f) <= startField || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("parse stat %.40q: %d fields after comm, want more than %d", b, len(f), startField)
	}
	v, err := strconv.ParseUint(f[startField], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("parse stat start time: %w", err)
	}
	return f[0][0], v, nil
}
