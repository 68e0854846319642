package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
	"github.com/sdbuild/sdbuild/sandbox"
	"github.com/sdbuild/sdbuild/scope"
	"github.com/sdbuild/sdbuild/slots"
)

// Gather reads this host and probes it: it creates each kind of namespace
// in a short-lived child (sandbox's probe, see the package doc) and
// connects to systemd. It needs no privilege, but what it finds is what
// the calling user can do.
func Gather(ctx context.Context, o Options) *Host {
	h := &Host{
		EUID:          os.Geteuid(),
		Files:         map[string]string{},
		FileErrs:      map[string]error{},
		NamespaceErrs: map[string]error{},
		InitBinary:    sandbox.InitBinary(),
		Config:        o.Config,
		ConfigErr:     o.ConfigErr,
		Executables:   map[string]string{},
		Devices:       map[string]Device{},
	}
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		h.Kernel = unix.ByteSliceToString(uts.Release[:])
	}
	paths := append([]string(nil), hostFiles...)
	for _, ns := range sandbox.Namespaces {
		paths = append(paths, sysctlFile(ns.Knob))
	}
	for _, k := range sandbox.UserNSKnobs {
		paths = append(paths, sysctlFile(k.Name))
	}
	h.Cgroup2Root, h.Cgroup2Err = cgroup2.Root()
	if h.Cgroup2Err == nil {
		paths = append(paths, controllersFile(h.Cgroup2Root))
		h.KillDir = nonRootCgroup(h.Cgroup2Root)
		if h.KillDir != "" {
			err := cgroup2.HasKill(h.KillDir)
			h.HasKill = err == nil
		}
	}
	if o.Config != nil && o.Config.Rootless != nil {
		paths = append(paths, lingerFile(o.Config.Rootless.Name))
	}
	for _, p := range paths {
		readInto(h, p)
	}
	h.CgroupFS = fsType(cgroupMount)

	for _, ns := range sandbox.Namespaces {
		h.NamespaceErrs[ns.Name] = sandbox.ProbeNamespace(ctx, ns, h.EUID)
	}
	if h.Config != nil {
		// One review reads each id and allocator file once for both.
		r := h.Config.ReviewHostIDs()
		h.HostIDsErr, h.IDRangeWarnings = r.Err, r.Warnings
		h.Quarantined, h.SlotsErr = slots.ReadQuarantined(h.Config.SlotOptions().Dir, h.Config.Slots())
	}
	h.Runner = gatherRunner(h.Config)
	h.SystemdErr = dialSystemd(ctx, o.SystemdTimeout)
	if st, err := os.Lstat("/run/systemd/system"); err == nil && st.IsDir() {
		h.SystemdBooted = true // sd_booted(3)'s test
	}
	bins := []string{binNewuidmap, binNewgidmap}
	var devs []string
	for _, f := range sandbox.KnownFeatures() {
		n, _ := sandbox.NeedsOf(f)
		for _, e := range append(n.Executables, n.Uses...) {
			bins = append(bins, e.Name)
		}
		for _, d := range n.Devices {
			devs = append(devs, d.Path)
		}
	}
	// Features share programs and devices (network and tun both need
	// /dev/net/tun): each is looked at once.
	slices.Sort(bins)
	slices.Sort(devs)
	for _, bin := range slices.Compact(bins) {
		if p, err := exec.LookPath(bin); err == nil {
			h.Executables[bin] = p
		}
	}
	for _, dev := range slices.Compact(devs) {
		h.Devices[dev] = statDevice(dev)
	}
	return h
}

func readInto(h *Host, path string) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		h.Files[path] = string(b)
	case !errors.Is(err, fs.ErrNotExist):
		h.FileErrs[path] = err
	}
}

// nonRootCgroup returns a cgroup2 directory other than the root: our own
// cgroup, else any child of the root; "" if there is none.
func nonRootCgroup(root string) string {
	if rel, err := cgroup2.Own("self"); err == nil && rel != "/" && rel != "" {
		return filepath.Join(root, rel)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if e.IsDir() {
			return filepath.Join(root, e.Name())
		}
	}
	return ""
}

// fsType names the file system at path by its statfs magic.
func fsType(path string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return ""
	}
	switch st.Type {
	case unix.CGROUP2_SUPER_MAGIC:
		return "cgroup2"
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.CGROUP_SUPER_MAGIC:
		return "cgroup"
	}
	return fmt.Sprintf("magic %#x", st.Type)
}

func statDevice(path string) Device {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return Device{}
	}
	return Device{
		Exists: true,
		Char:   st.Mode&unix.S_IFMT == unix.S_IFCHR,
		Major:  unix.Major(st.Rdev),
		Minor:  unix.Minor(st.Rdev),
	}
}

// dialSystemd connects to systemd the way sdbuildd does (as a user, to
// the user's own manager) and hangs up.
func dialSystemd(ctx context.Context, timeout time.Duration) error {
	if timeout == 0 {
		timeout = 3 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	connect := scope.NewManager
	if os.Geteuid() != 0 {
		connect = scope.NewUserManager // a user's own daemon's manager
	}
	m, err := connect(ctx)
	if err != nil {
		return err
	}
	return m.Close()
}
