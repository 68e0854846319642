package history

import "errors"

var (
	// ErrNotFound is wrapped by errors about a build id the history does not
	// hold.
	ErrNotFound = errors.New("build not found")

	// ErrInUse is wrapped by Open's error when another process holds the
	// history file open.
	ErrInUse = errors.New("history in use")

	// ErrClosed is wrapped by Put's error after Close.
	ErrClosed = errors.New("history closed")

	// ErrNoID is wrapped by Put's error for a build without an id.
	ErrNoID = errors.New("build has no id")

	// ErrCorrupt is wrapped by errors about an index entry that points at no
	// record, or a record that is not valid JSON. Transactions keep the
	// buckets consistent, so this means the file was changed behind the
	// store's back.
	ErrCorrupt = errors.New("history database inconsistent")
)
