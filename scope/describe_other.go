//go:build !linux

package scope

import (
	"context"
	"errors"
)

// SetDescription changes a running unit's description: Linux only.
func (m *Manager) SetDescription(ctx context.Context, name, desc string) error {
	return errors.ErrUnsupported
}
