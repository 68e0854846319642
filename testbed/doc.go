// Package testbed boots a throwaway systemd as PID 1 of fresh namespaces, for
// integration tests and demos on machines where systemd is not running.
//
// # How a testbed comes up
//
// Boot makes a child cgroup in the host's cgroup2 hierarchy (/sys/fs/cgroup on
// a pure cgroup2 host, /sys/fs/cgroup/unified on a hybrid one) and starts this
// very binary again, with a hidden argv[0], directly into that cgroup and into
// new mount, pid and uts namespaces. That namespace stage (see Reexec) unshares
// a cgroup namespace rooted at the child cgroup, builds the mounts systemd
// expects and execs /lib/systemd/systemd, which thereby becomes PID 1 of the new
// pid namespace. The stage is our own Go code rather than an unshare(1) script
// so that every step reports a wrapped error over a pipe, fails closed (systemd
// is never started on a half-built tree), and needs nothing but the test binary
// itself; Go can do all of it because the namespace stage is a fresh process
// (no setns into a mount namespace, which a multi-threaded Go process cannot
// do).
//
// Boot returns once systemd has sent READY=1 on the notify socket Boot gave it
// (systemd as PID 1 of a container sends it when start-up has finished) and
// `systemctl is-system-running --wait` answers running or degraded.
//
// # What the namespace stage does, in order
//
//   - unshare a cgroup namespace, so the child cgroup is "/" inside;
//   - make every mount private, so nothing propagates back to the host;
//   - detach the inherited /sys/fs/cgroup tree, mount a fresh proc on /proc,
//     make /sys read-only, mount a fresh cgroup2 on /sys/fs/cgroup;
//   - mount a tmpfs on /run, with a journald drop-in Storage=volatile and a
//     mask (a symlink to /dev/null) for every unit that would touch host state;
//   - mount a tmpfs on /tmp and one on /var/tmp, so that what units and
//     commands inside put there (PrivateTmp= dirs, build dirs, test dirs)
//     never reaches the host's and goes with the testbed (see tmpDirs);
//   - mount a private /dev (a tmpfs with bind-mounted device nodes, a devpts
//     instance and a pseudo-terminal as /dev/console), because the host's /dev
//     is shared and systemd would otherwise create /dev/log and mount points in
//     it and reset and write to the machine's real console;
//   - exec systemd with container=other and --unit=basic.target.
//
// Anything under /proc is left alone: the kernel lets a user namespace mount a
// new proc only while an existing proc mount is fully visible, and sandboxes
// run inside the testbed depend on that.
//
// # What stays shared with the host
//
// The root file system but /tmp and /var/tmp (so commands see the same files
// and can be started in the same working directory, unless it lies under one
// of those two), the network namespace (so `go test` inside can reach the module proxy), IPC, and
// global kernel settings. Units that would write those (tmpfiles, sysctl,
// binfmt, modules, udev, timers, ...) are masked; see maskedUnits. systemd
// itself raises three sysctls at start-up, which Boot puts back; see
// hostSysctls.
//
// # Using it
//
// A binary that boots testbeds must call Reexec first thing in main (and a test
// binary first thing in TestMain), before flags are parsed:
//
//	func TestMain(m *testing.M) {
//		testbed.Reexec()
//		os.Exit(m.Run())
//	}
//
// Commands run inside through Testbed.Command (nsenter into the namespaces,
// then systemd-run --scope, so the command sits in a scope of the testbed's
// systemd like any service would). Close kills systemd, which takes every
// process of the pid namespace with it, and removes the cgroup tree; it
// fails with ErrLeftover if a process is still in the testbed's namespaces,
// a cgroup cannot be removed, or a file of the testbed's /tmp or /var/tmp is
// in the host's.
//
// Boot, Command and Close need root and Linux; util-linux nsenter ≥ 2.38
// (--wdns). This package's own tests that boot testbeds run on the host and
// are left out by the integration build tag, which is set inside a testbed.
package testbed
