package enter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// identity is who an entered command is inside the build's user namespace
// and the host ids that maps to.
type identity struct {
	uid, gid         uint32
	hostUID, hostGID uint32
}

// entryID picks from a uid_map or gid_map (as the host reads it) the id an
// entered command takes, and the host id it maps to: root where the build
// maps it (uid-range builds), else the build's one id (1000 or 100). That
// is the builder's own identity either way, so the entered command can do
// what the build can and nothing more.
func entryID(idMap string) (inside, outside uint32, err error) {
	found := false
	for _, line := range strings.Split(strings.TrimSpace(idMap), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			return 0, 0, fmt.Errorf("line %q: want 3 fields", line)
		}
		var v [3]uint64
		for i, s := range f {
			if v[i], err = strconv.ParseUint(s, 10, 32); err != nil {
				return 0, 0, fmt.Errorf("line %q: %w", line, err)
			}
		}
		if v[2] == 0 {
			return 0, 0, fmt.Errorf("line %q: empty range", line)
		}
		if !found || v[0] == 0 {
			inside, outside, found = uint32(v[0]), uint32(v[1]), true
		}
	}
	if !found {
		return 0, 0, errors.New("no id mapped")
	}
	return inside, outside, nil
}
