package outputs

import (
	"fmt"
	"os"
)

// Remove deletes a tree the build could write, never following symlinks in it.
//
// It is os.RemoveAll, which on Linux (os/removeall_at.go) is safe here:
// after trying unlink and rmdir on path itself, which remove a symlink rather
// than follow it, it opens path's parent and deletes every entry with
// unlinkat(2) relative to its parent directory's fd, and descends only
// through openat(2) with O_NOFOLLOW|O_DIRECTORY. A symlink, including one
// swapped in for a directory mid-walk, is therefore unlinked or refused,
// never entered (CVE-2021-27851; the 2025 build-directory races in Nix, Lix
// and Guix). Only path and its parent are resolved as paths, so the parent
// must not be writable by the build.
//
// Entering directories the build made unreadable or read-only (mode 0000,
// 0555) needs CAP_DAC_OVERRIDE; sdbuild's daemon runs as root.
func Remove(path string) error {
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}
