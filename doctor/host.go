package doctor

import (
	"fmt"
	"strings"

	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/slots"
)

// Host is what Diagnose judges: facts read from a machine by Gather, or
// written out by a test.
type Host struct {
	EUID   int
	Kernel string // release, as uname -r prints it

	// Files maps each file doctor reads (the paths below, and the cgroup2
	// root's cgroup.controllers) to its contents. A path not in Files does
	// not exist, or could not be read and has its error in FileErrs.
	Files    map[string]string
	FileErrs map[string]error

	// NamespaceErrs is what creating each kind of namespace on its own
	// gave, by name ("user", "mount", ... as in sandbox.Namespaces): nil when
	// it was created. A kind that is not in the map was not probed.
	NamespaceErrs map[string]error

	// InitBinary is the program builds started here run as init
	// (sandbox.InitBinary): "" when they re-execute the calling binary.
	InitBinary string

	// Config is the loaded configuration, or ConfigErr says why there is
	// none; HostIDsErr and IDRangeWarnings are what Config.ReviewHostIDs
	// found (CheckHostIDs's error, and the warnings besides).
	Config          *config.Config
	ConfigErr       error
	HostIDsErr      error
	IDRangeWarnings []string

	SystemdErr    error // connecting to systemd over D-Bus; nil when it answered
	SystemdBooted bool  // /run/systemd/system exists: PID 1 is systemd

	Cgroup2Root string // where cgroup2 is mounted, or Cgroup2Err says why not
	Cgroup2Err  error
	CgroupFS    string // file system type of /sys/fs/cgroup: "cgroup2", "tmpfs", …
	// KillDir is a non-root cgroup2 directory that was looked in for
	// cgroup.kill (the kernel never puts it in the root cgroup), "" if
	// there was none to look in; HasKill says whether it was there.
	KillDir string
	HasKill bool

	// Quarantined are the slots whose lock file records a quarantine, or
	// SlotsErr says why the records could not be read (nil without a
	// configuration).
	Quarantined []slots.Quarantine
	SlotsErr    error

	Runner RunnerFacts // the runner service's build directory and socket (runner.go)

	Executables map[string]string // name → path on PATH; absent when not found
	Devices     map[string]Device // by path
}

// Device is what stat says of a device node.
type Device struct {
	Exists       bool
	Char         bool // a character device
	Major, Minor uint32
}

// Files Gather reads; Diagnose looks them up in Host.Files.
const (
	fileUIDMap         = "/proc/self/uid_map"
	fileGIDMap         = "/proc/self/gid_map"
	fileMountinfo      = "/proc/self/mountinfo"
	fileProcCgroups    = "/proc/cgroups"
	filePID1Comm       = "/proc/1/comm"
	fileDelegate       = "/sys/kernel/cgroup/delegate"
	fileCgroupFeatures = "/sys/kernel/cgroup/features"
	cgroupMount        = "/sys/fs/cgroup"
	binNewuidmap       = "newuidmap"
	binNewgidmap       = "newgidmap"
)

// hostFiles are the fixed paths Gather reads; the namespace limits
// (sandbox.Namespaces) and the cgroup2 root's cgroup.controllers come on top.
var hostFiles = []string{
	fileUIDMap, fileGIDMap, fileMountinfo,
	fileProcCgroups, filePID1Comm, fileDelegate, fileCgroupFeatures,
}

// file returns the trimmed contents of path and whether it was read.
func (h *Host) file(path string) (string, bool) {
	s, ok := h.Files[path]
	return strings.TrimSpace(s), ok
}

// absent says why path is not in Files, for a reason's text.
func (h *Host) absent(path string) string {
	if err := h.FileErrs[path]; err != nil {
		return fmt.Sprintf("cannot read %s: %v", path, err)
	}
	return "no " + path
}

// controllersFile is the cgroup2 root's list of controllers it offers.
func controllersFile(root string) string { return root + "/cgroup.controllers" }
