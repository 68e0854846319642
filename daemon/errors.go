package daemon

import "errors"

var (
	// ErrShuttingDown refuses new builds once the daemon is stopping.
	ErrShuttingDown = errors.New("sdbuildd is shutting down; submit the build again once it restarts")
	// ErrNotFound is returned for an unknown build id.
	ErrNotFound = errors.New("no such build")
	// ErrForbidden is returned when the caller may not do what it asks.
	ErrForbidden = errors.New("forbidden")
)
