package slots

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// This file parses procfs text. It is pure so it can be table-tested from
// strings; the reads themselves live in the _linux.go files.

// procIDs are a process's credentials from the Uid: and Gid: lines of
// /proc/PID/status: real, effective, saved and filesystem id, in that order.
type procIDs struct {
	uid, gid [4]uint32
}

// inRange reports whether any of the four uids lies in the slot's uids or
// any of the four gids in its gids. Any one is enough: a process that kept
// even its saved or fs id in a slot's range can act as that slot's next
// build.
func (p procIDs) inRange(s slotIDs) bool {
	for i := range 4 {
		if s.uids.contains(p.uid[i]) || s.gids.contains(p.gid[i]) {
			return true
		}
	}
	return false
}

// parseStatus reads the Uid: and Gid: lines of a /proc/PID/status file.
func parseStatus(r io.Reader) (procIDs, error) {
	var ids procIDs
	var seenUID, seenGID bool
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Bytes()
		var dst *[4]uint32
		switch {
		case bytes.HasPrefix(line, []byte("Uid:")):
			dst, seenUID = &ids.uid, true
		case bytes.HasPrefix(line, []byte("Gid:")):
			dst, seenGID = &ids.gid, true
		default:
			continue
		}
		f := strings.Fields(string(line[4:]))
		if len(f) != 4 {
			return procIDs{}, fmt.Errorf("parse status line %q: want 4 ids, got %d", line, len(f))
		}
		for i, s := range f {
			v, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return procIDs{}, fmt.Errorf("parse status line %q: %w", line, err)
			}
			dst[i] = uint32(v)
		}
		if seenUID && seenGID {
			return ids, nil
		}
	}
	if err := sc.Err(); err != nil {
		return procIDs{}, fmt.Errorf("parse status: %w", err)
	}
	return procIDs{}, fmt.Errorf("parse status: missing Uid: or Gid: line")
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

// parsePopulated reads the populated key of a cgroup2 cgroup.events file.
func parsePopulated(b []byte) (bool, error) {
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "populated "); ok {
			switch v {
			case "0":
				return false, nil
			case "1":
				return true, nil
			}
			return false, fmt.Errorf("parse cgroup.events: populated %q", v)
		}
	}
	return false, fmt.Errorf("parse cgroup.events: no populated key")
}
