package doctor

import (
	"strings"

	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/sandbox"
)

// unifiedMountinfo is a pure cgroup2 host's mountinfo, cgroup2 with the
// options systemd mounts it with.
const unifiedMountinfo = `22 1 0:21 / / rw,relatime - ext4 /dev/vda rw
30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`

// hybridMountinfo is this development VM's: v1 hierarchies on a tmpfs,
// cgroup2 beside them without controllers.
const hybridMountinfo = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

const hybridProcCgroups = `#subsys_name	hierarchy	num_cgroups	enabled
cpuset	3	1	1
cpu	1	1	1
cpuacct	2	1	1
blkio	7	1	1
memory	4	8	1
pids	8	1	1
hugetlb	0	1	1
`

const unifiedProcCgroups = `#subsys_name	hierarchy	num_cgroups	enabled
cpu	0	40	1
blkio	0	40	1
memory	0	40	1
pids	0	40	1
`

// healthyHost is a unified host where everything works, as root; tests
// break one fact at a time.
func healthyHost() *Host {
	cfg := config.Defaults()
	h := &Host{
		EUID:   0,
		Kernel: "6.18.44-fc-v657",
		Files: map[string]string{
			fileUIDMap:                        "         0          0 4294967295\n",
			fileGIDMap:                        "         0          0 4294967295\n",
			fileMountinfo:                     unifiedMountinfo,
			fileProcCgroups:                   unifiedProcCgroups,
			filePID1Comm:                      "systemd\n",
			fileDelegate:                      "cgroup.procs\ncgroup.threads\ncgroup.subtree_control\n",
			fileCgroupFeatures:                "nsdelegate\nfavordynmods\nmemory_localevents\n",
			controllersFile("/sys/fs/cgroup"): "cpuset cpu io memory hugetlb pids rdma misc\n",
		},
		NamespaceErrs: map[string]error{},
		InitBinary:    "/usr/libexec/sdbuild/sdbuild-init",
		Config:        &cfg,
		SystemdBooted: true,
		Cgroup2Root:   "/sys/fs/cgroup",
		CgroupFS:      "cgroup2",
		KillDir:       "/sys/fs/cgroup/init.scope",
		HasKill:       true,
		Executables:   map[string]string{sandbox.Slirp4netns.Name: "/usr/bin/slirp4netns", sandbox.Nspawn.Name: "/usr/bin/systemd-nspawn"},
		Devices: map[string]Device{
			sandbox.DevKVM: {Exists: true, Char: true, Major: 10, Minor: 232},
			sandbox.DevTUN: {Exists: true, Char: true, Major: 10, Minor: 200},
		},
	}
	for _, ns := range sandbox.Namespaces {
		h.Files[sysctlFile(ns.Knob)] = "15000\n"
		h.NamespaceErrs[ns.Name] = nil
	}
	return h
}

// hybridHost is healthyHost on this VM's cgroup layout, without systemd.
func hybridHost() *Host {
	h := healthyHost()
	delete(h.Files, controllersFile("/sys/fs/cgroup"))
	h.Cgroup2Root = "/sys/fs/cgroup/unified"
	h.CgroupFS = "tmpfs"
	h.KillDir, h.HasKill = "", false
	h.Files[controllersFile(h.Cgroup2Root)] = "\n"
	h.Files[fileMountinfo] = hybridMountinfo
	h.Files[fileProcCgroups] = hybridProcCgroups
	return h
}

// wantItem checks the item named name in items: its status, and that its
// reason holds every one of want.
func wantItem(items []Item, name string, status Status, want ...string) string {
	it, found := find(items, name)
	if !found {
		return "no item " + name
	}
	var problems []string
	if it.Status != status {
		problems = append(problems, "status "+string(it.Status)+", want "+string(status))
	}
	for _, w := range want {
		if !strings.Contains(it.Reason, w) {
			problems = append(problems, "reason lacks "+`"`+w+`"`)
		}
	}
	if len(problems) == 0 {
		return ""
	}
	return name + ": " + strings.Join(problems, "; ") + " (reason: " + it.Reason + ")"
}

// The distribution knobs' files, as Gather reads them.
var (
	fileUnprivClone    = sysctlFile("kernel.unprivileged_userns_clone")
	fileAppArmorUserns = sysctlFile("kernel.apparmor_restrict_unprivileged_userns")
)
