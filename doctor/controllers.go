package doctor

import (
	"bufio"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// limitControllers are the cgroup2 controllers behind the scope properties
// a build may set with -p, with their cgroup v1 names.
var limitControllers = []struct {
	name, v1, properties string
}{
	{"memory", "memory", "MemoryMax="},
	{"pids", "pids", "TasksMax="},
	{"cpu", "cpu", "CPUWeight=/CPUQuota="},
	{"io", "blkio", "IOWeight="},
}

// controllerCheck names the check of controller c.
func controllerCheck(c string) string { return c + " controller" }

// checkControllers says for each controller whether its limits can be
// enforced on a build's scope. A scope lives in cgroup2, so a limit holds
// only if the cgroup2 root offers the controller; one bound to a cgroup v1
// hierarchy (as on a hybrid host) is not, and systemd cannot enforce the
// property on sdbuild's scopes.
func checkControllers(h *Host) []Item {
	var offered []string
	root := ""
	if h.Cgroup2Err == nil {
		root = h.Cgroup2Root
		if s, present := h.file(controllersFile(root)); present {
			offered = strings.Fields(s)
		}
	}
	pc, _ := h.file(fileProcCgroups)
	v1 := parseProcCgroups(pc)
	mi, _ := h.file(fileMountinfo)
	mounts := parseMountinfo(mi)

	var out []Item
	for _, c := range limitControllers {
		name := controllerCheck(c.name)
		if slices.Contains(offered, c.name) {
			out = append(out, ok(name, fmt.Sprintf("%s can be enforced: %s is on cgroup2", c.properties, c.name)))
			continue
		}
		out = append(out, missing(name, fmt.Sprintf("%s cannot be enforced: %s", c.properties, whyNotOffered(h, c.name, c.v1, root, v1, mounts))))
	}
	return out
}

// whyNotOffered explains why cgroup2 does not offer controller name.
func whyNotOffered(h *Host, name, v1name, root string, v1 map[string]procCgroup, mounts []mount) string {
	if root == "" {
		return "no cgroup2"
	}
	if _, present := h.Files[controllersFile(root)]; !present {
		return h.absent(controllersFile(root))
	}
	pc, listed := v1[v1name]
	switch {
	case !listed && len(v1) > 0:
		return fmt.Sprintf("this kernel has no %s controller (not in %s)", name, fileProcCgroups)
	case listed && !pc.enabled:
		return fmt.Sprintf("%s is disabled (cgroup_disable=%s on the kernel command line)", name, v1name)
	case listed && pc.hierarchy != 0:
		where := fmt.Sprintf("hierarchy %d in %s", pc.hierarchy, fileProcCgroups)
		if point, found := v1Mount(mounts, v1name); found {
			where = "mounted at " + point
		}
		return fmt.Sprintf("%s is bound to cgroup v1 (%s), not cgroup2; boot with %s", name, where, bootUnified)
	}
	// Free of v1 yet not offered: the parent of this cgroup2 root (seen
	// through a cgroup namespace) has not enabled it for its children.
	return fmt.Sprintf("%s is not in %s: enable it in the parent cgroup's cgroup.subtree_control", name, controllersFile(root))
}

// procCgroup is one controller's line of /proc/cgroups.
type procCgroup struct {
	hierarchy int // 0: not bound to a v1 hierarchy (free for cgroup2)
	enabled   bool
}

// parseProcCgroups reads /proc/cgroups ("#subsys_name hierarchy
// num_cgroups enabled").
func parseProcCgroups(s string) map[string]procCgroup {
	out := map[string]procCgroup{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || strings.HasPrefix(f[0], "#") {
			continue
		}
		hier, err1 := strconv.Atoi(f[1])
		en, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			continue
		}
		out[f[0]] = procCgroup{hierarchy: hier, enabled: en != 0}
	}
	return out
}
