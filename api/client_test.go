package api

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// An unreachable daemon's error says how to start it: a user's own with
// systemctl --user.
func TestUnreachableHint(t *testing.T) {
	c := NewClient(filepath.Join(t.TempDir(), "missing.sock"))
	_, err := c.Status(context.Background())
	if !errors.Is(err, ErrNoDaemon) || !strings.Contains(err.Error(), "systemctl start sdbuild.socket") {
		t.Errorf("Status of the system daemon = %v", err)
	}
	c.Hint = UserHint
	_, err = c.Status(context.Background())
	if !errors.Is(err, ErrNoDaemon) || !strings.Contains(err.Error(), "systemctl --user start sdbuild.socket") {
		t.Errorf("Status of a user's daemon = %v", err)
	}
}
