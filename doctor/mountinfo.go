package doctor

import (
	"bufio"
	"slices"
	"strings"

	"github.com/sdbuild/sdbuild/internal/mountinfo"
)

// mount is one line of /proc/self/mountinfo, the fields doctor uses.
type mount struct {
	root, point, fstype string
	super               []string // super-block options, e.g. nsdelegate, memory
}

// parseMountinfo reads mountinfo lines ("id parent maj:min root point
// options [optional...] - fstype source super-options"), skipping any it
// cannot split.
func parseMountinfo(s string) []mount {
	var out []mount
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		pre, post, found := strings.Cut(sc.Text(), " - ")
		if !found {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 {
			continue
		}
		out = append(out, mount{
			root: mountinfo.Unescape(pf[3]), point: mountinfo.Unescape(pf[4]), fstype: qf[0],
			super: strings.Split(qf[2], ","),
		})
	}
	return out
}

// cgroup2Mount finds the cgroup2 mount at point, or the first one.
func cgroup2Mount(ms []mount, point string) (mount, bool) {
	var first *mount
	for i, m := range ms {
		if m.fstype != "cgroup2" {
			continue
		}
		if m.point == point {
			return m, true
		}
		if first == nil {
			first = &ms[i]
		}
	}
	if first == nil {
		return mount{}, false
	}
	return *first, true
}

// v1Mount finds where the cgroup v1 hierarchy holding controller is
// mounted: a "cgroup" mount naming it among its super-block options
// (memory alone, or cpu,cpuacct together).
func v1Mount(ms []mount, controller string) (string, bool) {
	for _, m := range ms {
		if m.fstype == "cgroup" && slices.Contains(m.super, controller) {
			return m.point, true
		}
	}
	return "", false
}
