//go:build !linux

package fscred

import (
	"errors"
	"fmt"
	"os"
)

// Do runs f with c's file-system credentials. Switching them per thread
// is Linux's; elsewhere f runs only when c is the caller itself.
func Do(c Cred, f func() error) error {
	if c.UID == os.Geteuid() {
		return f()
	}
	return fmt.Errorf("act as uid %d: %w", c.UID, errors.ErrUnsupported)
}

// DoOnThread runs f on the calling thread with c's file-system credentials;
// like Do, only for the caller itself outside Linux.
func DoOnThread(c Cred, f func() error) error { return Do(c, f) }
