package daemon

import (
	"fmt"
	"strings"
)

// peer is the client on the other end of a connection, as the kernel
// reports it (SO_PEERCRED, SO_PEERGROUPS), never as it claims to be.
type peer struct {
	uid, gid uint32
	pid      int32    // the process that connected, in the daemon's pid namespace; 0 if outside it
	name     string   // user name, or the uid when it has none
	groups   []string // names of its groups in the user database, when a policy entry names a group
	gids     []uint32 // the group ids it connected with, for checks with its credentials
	allowed  bool     // may submit builds
	trusted  bool     // may see and cancel every build
}

// groupIDs are p's group ids as ints, for credentials.
func (p *peer) groupIDs() []int {
	gs := make([]int, len(p.gids))
	for i, g := range p.gids {
		gs[i] = int(g)
	}
	return gs
}

// matchUsers reports whether a user is in a list of allowed-users or
// trusted-users entries: "*" for everyone, "@group", or a user name.
func matchUsers(list []string, name string, groups []string) bool {
	for _, e := range list {
		switch {
		case e == "*":
			return true
		case strings.HasPrefix(e, "@"):
			for _, g := range groups {
				if g == e[1:] {
					return true
				}
			}
		case e == name:
			return true
		}
	}
	return false
}

// refusal is what a client that may not submit builds reads.
func refusal(p *peer, allowedUsers []string) error {
	return fmt.Errorf("user %s is not allowed to submit builds (allowed-users = %s): %w",
		p.name, strings.Join(allowedUsers, " "), ErrForbidden)
}

// mayAccess reports whether p may see or cancel a build of uid.
func (p *peer) mayAccess(uid uint32) bool { return p.trusted || p.uid == uid }
