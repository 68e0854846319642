package outputs

import (
	"fmt"

	"github.com/sdbuild/sdbuild/internal/fscred"
)

// Owner is who receives an output: the uid and gid that own every inode
// Copy creates, and, with Groups, the identity the destination is
// resolved and created with.
type Owner struct {
	UID, GID int
	Groups   []int `json:",omitempty"` // supplementary groups
}

func (o Owner) cred() fscred.Cred { return fscred.Cred{UID: o.UID, GID: o.GID, Groups: o.Groups} }

// maxID is the largest id chown(2) can set: (uid_t)-1 means "leave
// unchanged", so an Owner of -1 would silently leave the output owned by the
// daemon.
const maxID = 1<<32 - 2

// check rejects ids that chown(2) would not apply.
func (o Owner) check() error {
	if o.UID < 0 || int64(o.UID) > maxID || o.GID < 0 || int64(o.GID) > maxID {
		return fmt.Errorf("owner %d:%d: uid and gid must be in 0..%d", o.UID, o.GID, int64(maxID))
	}
	return nil
}
