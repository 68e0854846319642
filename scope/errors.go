package scope

import "errors"

var (
	// ErrUnknownProperty is returned by ParseProperty for a property name
	// it does not know.
	ErrUnknownProperty = errors.New("unknown property")

	// ErrInvalidProperty is returned by ParseProperty, Start and Spec
	// validation for a malformed value or a property sdbuild sets itself.
	ErrInvalidProperty = errors.New("invalid property")

	// ErrInvalidSpec is returned by Start for a Spec that cannot name a
	// scope: a bad unit or slice name, or no pids.
	ErrInvalidSpec = errors.New("invalid scope spec")

	// ErrJobFailed is returned when systemd's job for a scope ends with a
	// result other than "done".
	ErrJobFailed = errors.New("systemd job did not complete")

	// ErrUnitExists is returned by Start when a live unit already has the
	// name, even after resetting a failed one.
	ErrUnitExists = errors.New("unit already exists")

	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("scope manager is closed")
)
