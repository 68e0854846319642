package outputs

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// outputMode is the permission a copied inode gets from its source's mode.
// Nix 1.11.10: a setuid or setgid output owned by a build's uid let a host user
// run code as that uid, so both go, and sticky with them. Group and world write
// go too, so that no other user can change an output after it is published.
func outputMode(mode uint32) uint32 {
	return mode & 0o755
}

// kindName names a file type Copy refuses, for the user to read.
func kindName(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return "named pipe"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	}
	return fmt.Sprintf("file of unknown type %#o", mode&unix.S_IFMT)
}
