package slots

import "errors"

var (
	// ErrNoFreeSlot is wrapped by the error Acquire returns when every slot is
	// leased or quarantined.
	ErrNoFreeSlot = errors.New("no free UID slot")

	// ErrReleased is returned by a Lease method called after Release.
	ErrReleased = errors.New("lease already released")

	// ErrHolderAlive is returned by Release when the recorded build init
	// process still runs; the slot is then left marked held, so the next
	// Acquire of it kills what is left before reuse.
	ErrHolderAlive = errors.New("build init process still running")

	// ErrBadRecord is wrapped by errors about a lock file whose content is not
	// a valid record.
	ErrBadRecord = errors.New("malformed slot record")

	// ErrPoolClosed is returned by Acquire after Close.
	ErrPoolClosed = errors.New("slot pool closed")

	// ErrBadOptions is wrapped by Open's errors about invalid Options.
	ErrBadOptions = errors.New("invalid slot pool options")
)
