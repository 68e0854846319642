package sandbox

import "errors"

var (
	// ErrUnknownFeature is returned for a feature name sdbuild does not know.
	ErrUnknownFeature = errors.New("unknown feature")
	// ErrInvalidSpec wraps every error found by Spec.Validate.
	ErrInvalidSpec = errors.New("invalid build spec")
	// ErrNamespace is returned when a namespace cannot be created; the
	// build never runs without it.
	ErrNamespace = errors.New("cannot create namespace")
	// ErrSetup is returned when init fails while building the sandbox.
	ErrSetup = errors.New("sandbox setup")
	// ErrNotExecutable is returned by SetInitBinary for a file that is
	// not an executable regular file.
	ErrNotExecutable = errors.New("not an executable file")
)

// ErrKilled is returned by Wait when the build was killed before its
// builder finished.
var ErrKilled = errors.New("build killed")
