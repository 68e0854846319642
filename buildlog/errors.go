package buildlog

import "errors"

var (
	// ErrNotFound is returned by Open when no log exists for the build.
	ErrNotFound = errors.New("build log not found")

	// ErrExists is returned by Create when the build already has a log.
	ErrExists = errors.New("build log already exists")

	// ErrInvalidID is returned for a build id that cannot name a log file
	// or a unit.
	ErrInvalidID = errors.New("invalid build id")

	// ErrInvalidField is returned by Event for a journal field name that
	// journald would drop, or one that sdbuild sets itself.
	ErrInvalidField = errors.New("invalid journal field")

	// ErrClosed is returned by Write and Close after Close, and by a
	// follower's Read after its Close.
	ErrClosed = errors.New("build log is closed")

	// ErrJournal is returned by Close when some lines could not be sent to
	// journald. The file is complete all the same.
	ErrJournal = errors.New("journal did not take every line")
)
