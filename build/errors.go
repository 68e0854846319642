package build

import "errors"

var (
	// ErrBadRequest wraps every error in a request that is found before
	// anything starts: the request can be fixed and sent again.
	ErrBadRequest = errors.New("bad build request")
	// ErrOutputRejected is returned when the builder succeeded but left
	// outputs sdbuild does not accept.
	ErrOutputRejected = errors.New("outputs rejected")
	// ErrUnavailable wraps why this host cannot sandbox any build now
	// (Options.Unusable): sdbuild refuses rather than build unsandboxed.
	ErrUnavailable = errors.New("builds unavailable")
)
