package sandbox

import (
	"bytes"
	"errors"
	"fmt"
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
