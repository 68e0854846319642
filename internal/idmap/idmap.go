// Package idmap reads user namespace id maps (/proc/PID/uid_map,
// gid_map) and answers which host ids a process can hand out: inside a
// container, only the ids its own user namespace maps.
package idmap

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Range maps Count ids from Inside (in the namespace) to Outside (in its
// parent).
type Range struct {
	Inside, Outside, Count uint64
}

// Parse reads a uid_map or gid_map.
func Parse(r io.Reader) ([]Range, error) {
	var rs []Range
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("id map line %d: %q: want 3 numbers", n, sc.Text())
		}
		var v [3]uint64
		for i, s := range f {
			x, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("id map line %d: %q: %w", n, sc.Text(), err)
			}
			v[i] = x
		}
		rs = append(rs, Range{Inside: v[0], Outside: v[1], Count: v[2]})
	}
	return rs, sc.Err()
}

// Uncovered returns the first id of [start, start+count) that no range
// maps (as seen inside the namespace), and whether there is one.
func Uncovered(rs []Range, start, count uint64) (uint64, bool) {
	for id := start; id < start+count; {
		next := id
		for _, r := range rs {
			if id >= r.Inside && id < r.Inside+r.Count {
				next = r.Inside + r.Count
				break
			}
		}
		if next == id {
			return id, true
		}
		id = next
	}
	return 0, false
}

// String shows the ranges as a person reads them: 0-65535, 100000-165535.
func String(rs []Range) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%d-%d", r.Inside, r.Inside+r.Count-1))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// CheckSelf returns an error naming the limit when this process's user
// namespace does not map every uid in [uidStart, uidStart+count) and every
// gid in [gidStart, gidStart+count).
func CheckSelf(uidStart, gidStart, count uint64) error {
	for _, m := range []struct {
		f     string
		start uint64
	}{{"/proc/self/uid_map", uidStart}, {"/proc/self/gid_map", gidStart}} {
		f, start := m.f, m.start
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read %s: %w", f, err)
		}
		rs, err := Parse(strings.NewReader(string(b)))
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if id, ok := Uncovered(rs, start, count); ok {
			return fmt.Errorf("host ids %d-%d (start-id, id-count) are not all mapped where sdbuild runs: %s maps only %s (id %d is not), so sdbuild is in a container that cannot give builds these ids; choose start-id and id-count inside the mapped ids, with ids-per-build no larger than a slot there",
				start, start+count-1, f, String(rs), id)
		}
	}
	return nil
}
