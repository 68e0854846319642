package daemon

import (
	"errors"
	"fmt"
	"net"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// peerCred is what the kernel says of the process on the other end of a
// connection, as it was when it connected.
type peerCred struct {
	unix.Ucred // SO_PEERCRED
	// groups are its supplementary groups (SO_PEERGROUPS); nil when the
	// kernel could not say (before Linux 4.13).
	groups []uint32
}

// peerOf reads the credentials of the process on the other end of c.
func peerOf(c net.Conn) (*peerCred, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil, errors.New("peer credentials: not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("peer credentials: %w", err)
	}
	var cred *peerCred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		var uc *unix.Ucred
		if uc, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); serr != nil {
			return
		}
		cred = &peerCred{Ucred: *uc}
		cred.groups, serr = peerGroups(int(fd))
		if errors.Is(serr, unix.ENOPROTOOPT) {
			serr = nil // an old kernel: resolvePeer asks the user database
		}
	}); err != nil {
		return nil, fmt.Errorf("peer credentials: %w", err)
	}
	if serr != nil {
		return nil, fmt.Errorf("peer credentials: %w", serr)
	}
	return cred, nil
}

// peerGroups reads the supplementary groups of the peer of socket fd.
func peerGroups(fd int) ([]uint32, error) {
	buf := make([]uint32, 32)
	for {
		n := uint32(len(buf)) * 4
		_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERGROUPS,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
		switch {
		case errno == unix.ERANGE && int(n/4) > len(buf):
			buf = make([]uint32, n/4) // n is what the groups need
		case errno != 0:
			return nil, errno
		default:
			return buf[:n/4], nil
		}
	}
}

// resolvePeer names the user behind cred, and decides what it may do.
//
// Its group ids, with which inputs are opened and outputs made for it,
// are those of the connecting process itself, as the kernel reports them:
// what the client could open itself, no more (a client that dropped a
// group does not have it back through the daemon). Only an old kernel
// that cannot say has them taken from the user database.
//
// Group names are looked up only for allowed-users and trusted-users
// entries that name a group (@group), and from the user database, as
// nix-daemon does: membership there is what the administrator granted.
// So a connection costs no walk of every group source (getgrouplist,
// which with nss-systemd asks each userdb service) unless the
// configuration names groups.
func (d *Daemon) resolvePeer(cred *peerCred) *peer {
	p := &peer{uid: cred.Uid, gid: cred.Gid, pid: cred.Pid, name: strconv.FormatUint(uint64(cred.Uid), 10)}
	p.gids = []uint32{cred.Gid}
	for _, g := range cred.groups {
		if !slices.Contains(p.gids, g) {
			p.gids = append(p.gids, g)
		}
	}
	u, uerr := user.LookupId(p.name)
	if uerr == nil {
		p.name = u.Username
	}
	byGroup := namesGroups(d.cfg.AllowedUsers) || namesGroups(d.cfg.TrustedUsers)
	if uerr == nil && (cred.groups == nil || byGroup) {
		dbGIDs := []uint32{cred.Gid}
		if ids, err := u.GroupIds(); err == nil {
			for _, s := range ids {
				if gid, err := strconv.ParseUint(s, 10, 32); err == nil && !slices.Contains(dbGIDs, uint32(gid)) {
					dbGIDs = append(dbGIDs, uint32(gid))
				}
			}
		}
		if cred.groups == nil {
			p.gids = dbGIDs
		}
		if byGroup {
			for _, gid := range dbGIDs {
				if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
					p.groups = append(p.groups, g.Name)
				}
			}
		}
	}
	// root may always do everything, as with nix-daemon.
	p.allowed = cred.Uid == 0 || matchUsers(d.cfg.AllowedUsers, p.name, p.groups)
	p.trusted = cred.Uid == 0 || matchUsers(d.cfg.TrustedUsers, p.name, p.groups)
	if r := d.cfg.Rootless; r != nil {
		// A user's own daemon builds with the user's ids and reads inputs
		// with the user's rights: it serves that user alone, whatever
		// allowed-users says.
		p.allowed = cred.Uid == r.UID && p.allowed
		p.trusted = cred.Uid == r.UID && p.trusted
	}
	return p
}

// namesGroups reports whether an allowed-users or trusted-users list has
// an @group entry.
func namesGroups(list []string) bool {
	return slices.ContainsFunc(list, func(e string) bool { return strings.HasPrefix(e, "@") })
}
