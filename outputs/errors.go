package outputs

import (
	"errors"
	"fmt"
)

var (
	// ErrUnsupportedFile is wrapped by the error Copy returns when the output
	// holds something other than a regular file, a directory or a symlink.
	ErrUnsupportedFile = errors.New("unsupported file type")

	// ErrExists is wrapped by the error Copy returns when dst already exists.
	ErrExists = errors.New("already exists")

	// ErrChanged is wrapped by the error Copy returns when an entry of the
	// source tree was replaced while it was being copied. Since Copy runs only
	// after every build process is dead, this means something survived the
	// build or another process writes the build tree.
	ErrChanged = errors.New("changed while being copied")
)

// unsupportedFileError names the offending entry; it unwraps to
// ErrUnsupportedFile.
type unsupportedFileError struct {
	path string // relative to the output, such as $out/sub/fifo
	kind string // such as "named pipe"
}

func (e *unsupportedFileError) Error() string {
	return fmt.Sprintf("output %s: %s is not allowed (only regular files, directories and symlinks)", e.path, e.kind)
}

func (e *unsupportedFileError) Unwrap() error { return ErrUnsupportedFile }

// existsError is the error for a dst that is already there, however it got
// there.
func existsError(dst string) error {
	return fmt.Errorf("output %s: %w; remove it or choose another --output", dst, ErrExists)
}
