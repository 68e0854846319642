package daemon

import (
	"errors"
	"fmt"
	"net"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"
)

// peerOf reads the credentials of the process on the other end of c.
func peerOf(c net.Conn) (*unix.Ucred, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil, errors.New("peer credentials: not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, fmt.Errorf("peer credentials: %w", err)
	}
	if serr != nil {
		return nil, fmt.Errorf("peer credentials: %w", serr)
	}
	return cred, nil
}

// resolvePeer names the user behind cred and its groups, and decides what
// it may do.
func (d *Daemon) resolvePeer(cred *unix.Ucred) *peer {
	p := &peer{uid: cred.Uid, gid: cred.Gid, name: strconv.FormatUint(uint64(cred.Uid), 10)}
	p.gids = []uint32{cred.Gid}
	if u, err := user.LookupId(p.name); err == nil {
		p.name = u.Username
		if ids, err := u.GroupIds(); err == nil {
			for _, s := range ids {
				gid, err := strconv.ParseUint(s, 10, 32)
				if err != nil {
					continue
				}
				if uint32(gid) != cred.Gid {
					p.gids = append(p.gids, uint32(gid))
				}
			}
		}
	}
	for _, gid := range p.gids {
		if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
			p.groups = append(p.groups, g.Name)
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
