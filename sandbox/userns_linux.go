package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The setuid helpers of the uidmap package (shadow-utils): the only way
// for a user without root to map the subordinate ids it was granted.
const (
	newuidmap = "newuidmap"
	newgidmap = "newgidmap"
)

// mappedArg0 is the first stage of a process started in a user namespace
// whose maps newuidmap writes: exec computes a process's capabilities
// from its ids, and before the maps exist it has none, so the process
// waits for its maps and then execs the real stage (os.Args[1:]), which
// starts as root of the namespace with every capability in it.
const mappedArg0 = "sdbuild-sandbox-mapped"

// mappedFD carries the parent's word that the maps are written: one line
// (or EOF). Only that line is read, so what follows stays for the next
// stage.
const mappedFD = 3

// mappedMain is the first stage: it waits for the maps and execs the next.
func mappedMain() int {
	var b [1]byte
	for {
		n, err := unix.Read(mappedFD, b[:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 || b[0] == '\n' {
			break
		}
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "sdbuild: usage: sdbuild-sandbox-mapped STAGE [ARG...]")
		return 2
	}
	err := unix.Exec("/proc/self/exe", os.Args[1:], os.Environ())
	fmt.Fprintf(os.Stderr, "sdbuild: exec %s: %v\n", os.Args[1], err)
	return 1
}

// stageArgs returns the argv that starts stage with args in u's user
// namespace: through the mapped stage when newuidmap writes the maps.
func (u *UserNS) stageArgs(stage string, args ...string) []string {
	if u != nil && u.Sub {
		return append([]string{mappedArg0, stage}, args...)
	}
	return append([]string{stage}, args...)
}

// applyUserNS makes attr start the process in u's user namespace. Without
// subordinate ids the caller writes the one-line maps itself (setgroups
// denied, as the kernel requires); with them the maps are written later by
// mapUserNS, and the process must wait for them before it does anything.
func (u *UserNS) applyUserNS(attr *syscall.SysProcAttr) {
	attr.Cloneflags |= unix.CLONE_NEWUSER
	if u.Sub {
		return
	}
	attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(u.UID), Size: 1}}
	attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(u.GID), Size: 1}}
	attr.GidMappingsEnableSetgroups = false
}

// mapUserNS writes pid's maps with newuidmap and newgidmap, when u has
// subordinate ids; they check /etc/subuid and /etc/subgid. The two run at
// once: each is a setuid exec that costs milliseconds.
func (s *Spec) mapUserNS(pid int) error {
	if !s.UserNS.Sub {
		return nil
	}
	uids, gids := s.initMaps()
	errs := make(chan error, 1)
	go func() { errs <- runIDMapper(newgidmap, pid, gids, "/etc/subgid") }()
	err := runIDMapper(newuidmap, pid, uids, "/etc/subuid")
	return errors.Join(err, <-errs)
}

// idMappers are newuidmap's and newgidmap's paths, looked up once.
var idMappers = map[string]func() (string, error){
	newuidmap: sync.OnceValues(func() (string, error) { return exec.LookPath(newuidmap) }),
	newgidmap: sync.OnceValues(func() (string, error) { return exec.LookPath(newgidmap) }),
}

// runIDMapper runs newuidmap or newgidmap for pid with maps.
func runIDMapper(tool string, pid int, maps []idMap, file string) error {
	path, err := idMappers[tool]()
	if err != nil {
		return fmt.Errorf("map subordinate ids: %s not found (install the uidmap package): %w", tool, err)
	}
	args := []string{strconv.Itoa(pid)}
	for _, l := range maps {
		args = append(args, strconv.FormatUint(uint64(l.Inside), 10), strconv.FormatUint(uint64(l.Outside), 10), strconv.FormatUint(uint64(l.Count), 10))
	}
	cmd := exec.Command(path, args...)
	cmd.Env = []string{}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("map subordinate ids: %s %s: %w: %s (does %s grant them, and is the first line your own id as /etc/passwd has it?)",
			tool, strings.Join(args, " "), err, strings.TrimSpace(out.String()), file)
	}
	return nil
}

// setgroupsAllowed reports whether this process's user namespace lets it
// call setgroups (its /proc/self/setgroups says "allow").
func setgroupsAllowed() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	if errors.Is(err, os.ErrNotExist) {
		return true // the initial namespace of an old kernel
	}
	return err == nil && strings.TrimSpace(string(b)) == "allow"
}

// chownBuildDirsLocked gives the directories the builder writes to its
// first ids. init does it, in every mode: as root, or as root of its own
// user namespace, where the caller's subordinate ids are mapped (the
// caller itself cannot chown to them). They are fresh and the build has
// not run yet; they are opened without following links all the same.
func chownBuildDirsLocked(s *Spec) error {
	uid, gid := s.slotBase()
	dirfd, err := unix.Open(s.Dir, unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", s.Dir, err)
	}
	defer unix.Close(dirfd)
	for _, d := range buildDirs {
		if !d.builder {
			continue
		}
		if err := unix.Fchownat(dirfd, d.name, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown %s/%s to host uid %d: %w", s.Dir, d.name, s.HostID, err)
		}
	}
	return nil
}

// DelegateFiles are the files the kernel says a delegated cgroup's owner
// must own (/sys/kernel/cgroup/delegate): cgroup.procs, cgroup.threads,
// cgroup.subtree_control, ... Limit files such as memory.max are not among
// them and stay the caller's, so a build cannot lift its own limits. The
// file is read once per process.
func DelegateFiles() ([]string, error) {
	delegateFiles.once.Do(func() {
		b, err := os.ReadFile("/sys/kernel/cgroup/delegate")
		if err != nil {
			delegateFiles.err = fmt.Errorf("cgroup delegation not supported by this kernel (/sys/kernel/cgroup/delegate): %w", err)
			return
		}
		delegateFiles.names = strings.Fields(string(b))
	})
	return delegateFiles.names, delegateFiles.err
}

var delegateFiles struct {
	once  sync.Once
	names []string
	err   error
}

// readDelegateFiles reads DelegateFiles for a systemd-cgroup build while
// init still sees the host's /sys.
func readDelegateFiles(s *Spec) error {
	if !s.Features.SystemdCgroup {
		return nil
	}
	_, err := DelegateFiles()
	return err
}

// chownCgroupLocked gives the build's delegated cgroup, dir, to the
// builder's root: the directory and the delegation files. init does it in
// every mode, as for the build directories.
func chownCgroupLocked(s *Spec, dir *os.File) error {
	if dir == nil {
		return nil
	}
	names, err := DelegateFiles()
	if err != nil {
		return err
	}
	uid, gid := s.slotBase()
	fd := int(dir.Fd())
	if err := unix.Fchown(fd, int(uid), int(gid)); err != nil {
		return fmt.Errorf("delegate cgroup: chown to host uid %d: %w", s.HostID, err)
	}
	for _, n := range names {
		err := unix.Fchownat(fd, n, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW)
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("delegate cgroup: chown %s to host uid %d: %w", n, s.HostID, err)
		}
	}
	return nil
}

// UserNSKnob is a setting that can forbid users without root to create
// user namespaces: its sysctl name, the value that forbids, and the fix.
type UserNSKnob struct {
	Name, Forbids, Fix string
	// Limit: a namespace count limit, which doctor reports with the user
	// namespace itself (see Namespaces), not as a distribution knob.
	Limit bool
}

// File is the knob's path below /proc/sys.
func (k UserNSKnob) File() string { return strings.ReplaceAll(k.Name, ".", "/") }

// UserNSKnobs are the settings that can forbid users without root to
// create user namespaces, for the daemon's refusal and for doctor.
var UserNSKnobs = []UserNSKnob{
	{Name: "kernel.unprivileged_userns_clone", Forbids: "0", Fix: "sysctl -w kernel.unprivileged_userns_clone=1"},
	{Name: "user.max_user_namespaces", Forbids: "0", Fix: "sysctl -w user.max_user_namespaces=15000", Limit: true},
	{Name: "kernel.apparmor_restrict_unprivileged_userns", Forbids: "1",
		Fix: `give sdbuildd an AppArmor profile with "userns,", or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`},
}

// ErrNoUserNS: this host does not let users without root create user
// namespaces, so a user's own daemon cannot sandbox builds.
var ErrNoUserNS = errors.New("unprivileged user namespaces are disabled")

// UserNSSetting names the setting in sysctlDir (/proc/sys) that forbids
// users without root to create user namespaces, and its fix; "" when none
// does.
func UserNSSetting(sysctlDir string) (setting, fix string) {
	for _, k := range UserNSKnobs {
		b, err := os.ReadFile(sysctlDir + "/" + k.File())
		if err == nil && strings.TrimSpace(string(b)) == k.Forbids {
			return k.Name + " = " + k.Forbids, k.Fix
		}
	}
	return "", ""
}

// CheckUnprivilegedUserNS checks that this process, without root, can
// create the user namespace every build needs, and when not, names the
// setting that forbids it. sdbuild never falls back to building without
// one.
func CheckUnprivilegedUserNS() error {
	err := ProbeNamespace(context.Background(), Namespaces[0], os.Geteuid())
	if err == nil {
		return nil
	}
	if setting, fix := UserNSSetting("/proc/sys"); setting != "" {
		return fmt.Errorf("%w: %s (%s); builds are refused, never run unsandboxed", ErrNoUserNS, setting, fix)
	}
	return fmt.Errorf("%w: creating one fails with %v (a security module? see sdbuild doctor); builds are refused, never run unsandboxed", ErrNoUserNS, err)
}
