package bbrunner

import "errors"

// ErrBadRunRequest wraps every fault of a worker's request found before
// the action starts; the worker reports it as INVALID_ARGUMENT.
var ErrBadRunRequest = errors.New("bad run request")

// ErrPermissionDenied wraps a refusal of the caller (PERMISSION_DENIED).
var ErrPermissionDenied = errors.New("permission denied")
