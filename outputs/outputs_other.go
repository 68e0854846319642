//go:build !linux

package outputs

import (
	"errors"
	"fmt"
)

// Copy copies the directory tree at src to dst, which must not exist, as fresh inodes owned by owner.
// It needs openat2(2) and renameat2(2), so it exists only on Linux.
func Copy(src, dst string, owner Owner) error {
	return fmt.Errorf("copy output %s: %w", src, errors.ErrUnsupported)
}

// Remove deletes a tree the build could write, never following symlinks in it.
// Its safety argument rests on Linux's os.RemoveAll, so it exists only on Linux.
func Remove(path string) error {
	return fmt.Errorf("remove %s: %w", path, errors.ErrUnsupported)
}
