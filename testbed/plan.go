package testbed

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// maskedUnits are masked inside every testbed, because the root file system,
// /proc/sys and the network namespace are the host's: each one would change
// the host, or (the pseudo file systems) only cost boot time.
var maskedUnits = []string{
	// tmp.conf has "D /tmp": systemd-tmpfiles-setup would empty the host's /tmp.
	"systemd-tmpfiles-setup.service",
	"systemd-tmpfiles-setup-dev.service",
	"systemd-tmpfiles-clean.service",
	"systemd-tmpfiles-clean.timer",
	// Timers run host maintenance: apt, fstrim, man-db, e2scrub, dpkg backups.
	"timers.target",
	// Global kernel state: sysctls, binfmt handlers, modules, the clock.
	"systemd-sysctl.service",
	"systemd-binfmt.service",
	"proc-sys-fs-binfmt_misc.automount",
	"proc-sys-fs-binfmt_misc.mount",
	"systemd-modules-load.service",
	"modprobe@.service",
	"kmod-static-nodes.service",
	"systemd-timesyncd.service",
	"systemd-pstore.service",
	// Files under /etc and /var that belong to the host.
	"systemd-sysusers.service",
	"systemd-remount-fs.service",
	"systemd-random-seed.service",
	"systemd-update-utmp.service",
	"systemd-update-utmp-runlevel.service",
	"ldconfig.service",
	"systemd-machine-id-commit.service",
	"systemd-journal-catalog-update.service",
	"systemd-update-done.service",
	"systemd-journal-flush.service",
	"systemd-firstboot.service",
	"systemd-repart.service",
	"systemd-pcrphase.service",
	"systemd-pcrphase-sysinit.service",
	"systemd-boot-update.service",
	// udev would process (and trigger events for) the host's devices.
	"systemd-udevd.service",
	"systemd-udevd-control.socket",
	"systemd-udevd-kernel.socket",
	"systemd-udev-trigger.service",
	"systemd-udev-settle.service",
	"systemd-hwdb-update.service",
	// The audit socket reads the host's audit stream.
	"systemd-journald-audit.socket",
	// The namespace stage mounts /tmp before systemd starts (see tmpDirs);
	// tmp.mount would put a second tmpfs over it once units already use it.
	"tmp.mount",
	// Pseudo file systems nothing in a testbed uses.
	"dev-hugepages.mount",
	"dev-mqueue.mount",
	"sys-kernel-config.mount",
	"sys-kernel-debug.mount",
	"sys-kernel-tracing.mount",
	"sys-fs-fuse-connections.mount",
}

// maskDir holds the masks. It is the runtime control directory, which comes
// before /etc/systemd/system in systemd's unit search path, so a unit file the
// host keeps in /etc cannot override a mask (one in /run/systemd/system could).
const maskDir = "/run/systemd/system.control"

// tmpDirs get a tmpfs of their own in every testbed. The root file system is
// the host's, and the PrivateTmp= dirs of units inside (systemd-logind's, for
// one, in every testbed that has users log in), go test's build dirs and
// every test's temporary dirs would otherwise pile up in the host's /tmp and
// /var/tmp whenever a testbed is killed rather than shut down. A tmpfs, not a
// host dir bound in and removed by Close, because it goes with the testbed's
// mount namespace however the testbed ends, a SIGKILL or a crash of the
// process that booted it included, and there is no host path to choose or
// to clean up. The price is memory: a tmpfs may grow to half of it.
var tmpDirs = []string{"/tmp", "/var/tmp"}

// journaldDropIn keeps the journal in /run: /var/log/journal is the host's.
const (
	journaldDropInDir  = "/run/systemd/journald.conf.d"
	journaldDropInName = "sdbuild-testbed.conf"
	journaldDropIn     = "[Journal]\nStorage=volatile\n"
)

// devNodes are bind-mounted from the host's /dev into the testbed's private
// /dev when the host has them. The optional ones serve sandboxes run inside.
var devNodes = []string{"null", "zero", "full", "random", "urandom", "tty", "fuse", "net/tun", "kvm"}

// devLinks are the symbolic links every /dev has.
var devLinks = [][2]string{
	{"/proc/self/fd", "fd"},
	{"/proc/self/fd/0", "stdin"},
	{"/proc/self/fd/1", "stdout"},
	{"/proc/self/fd/2", "stderr"},
	{"pts/ptmx", "ptmx"},
}

// systemdPaths are tried in order for the systemd binary.
var systemdPaths = []string{"/lib/systemd/systemd", "/usr/lib/systemd/systemd"}

// innerConfig travels from Boot to the namespace stage over an inherited pipe.
type innerConfig struct {
	Hostname     string // host name inside
	Console      string // path of the pseudo-terminal that becomes /dev/console
	NotifySocket string // NOTIFY_SOCKET for systemd
}

// systemdArgv is systemd's command line. As PID 1 of a container, systemd
// reads "kernel command line" settings such as systemd.hostname= from its own
// argv instead of /proc/cmdline.
func systemdArgv(binary string, cfg innerConfig) []string {
	return []string{
		binary, "--system", "--unit=basic.target",
		"systemd.hostname=" + cfg.Hostname,
	}
}

// systemdEnv is systemd's whole environment: container=other makes it behave
// as a container's init (no kernel setup, units with
// ConditionVirtualization=!container stay off), NOTIFY_SOCKET is where it says
// READY=1, and SYSTEMD_COLORS=0 keeps escape codes out of the console log.
func systemdEnv(cfg innerConfig) []string {
	return []string{
		"container=other",
		"NOTIFY_SOCKET=" + cfg.NotifySocket,
		"SYSTEMD_COLORS=0",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	}
}

// isReady reports whether an sd_notify datagram contains READY=1.
func isReady(msg []byte) bool {
	for _, line := range bytes.Split(msg, []byte("\n")) {
		if string(line) == "READY=1" {
			return true
		}
	}
	return false
}

// systemStateOK reports whether `systemctl is-system-running` output means
// the testbed is usable: degraded (some unit failed) still is.
func systemStateOK(out string) bool {
	s := strings.TrimSpace(out)
	return s == "running" || s == "degraded"
}

// ownCgroup2Path returns the cgroup2 path ("0::" line) of a /proc/PID/cgroup
// file, relative to the reader's cgroup namespace root.
func ownCgroup2Path(r io.Reader) (string, error) {
	path, err := cgroup2.ParseOwn(r)
	switch {
	case err != nil:
		return "", err
	case !strings.HasPrefix(path, "/"):
		return "", fmt.Errorf("cgroup2 path %q: not absolute", path)
	case path == "/.." || strings.HasPrefix(path, "/../"):
		return "", fmt.Errorf("cgroup2 path %q: %w", path, ErrOutsideCgroupNamespace)
	}
	return path, nil
}
