// Package fscred does file-system work as another user: on a thread of its
// own whose fsuid, fsgid and supplementary groups are that user's, so the
// kernel checks every path it resolves, and every entry it creates, with
// that user's permissions.
//
// The daemon runs as root and acts for clients: it must never resolve a
// path a client names with root's power to reach or create things (a
// client that swaps a directory on the path for a symlink to /etc between
// a check and the use would otherwise write there as root). Resolving as
// the client makes the check and the use the same act.
package fscred

// Cred is a user's file-system identity.
type Cred struct {
	UID    int   `json:"uid"`
	GID    int   `json:"gid"`
	Groups []int `json:"groups,omitempty"` // supplementary groups
}
