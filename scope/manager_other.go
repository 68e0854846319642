//go:build !linux

package scope

import (
	"context"
	"errors"
)

// Manager talks to systemd, which exists only on Linux.
type Manager struct{}

// NewManager returns errors.ErrUnsupported outside Linux.
func NewManager(ctx context.Context) (*Manager, error) { return nil, errors.ErrUnsupported }

// NewUserManager returns errors.ErrUnsupported outside Linux.
func NewUserManager(ctx context.Context) (*Manager, error) { return nil, errors.ErrUnsupported }

// Close does nothing outside Linux.
func (m *Manager) Close() error { return nil }

// Start returns errors.ErrUnsupported outside Linux.
func (m *Manager) Start(ctx context.Context, s Spec) (*Scope, error) {
	return nil, errors.ErrUnsupported
}

// Kill returns errors.ErrUnsupported outside Linux.
func (m *Manager) Kill(ctx context.Context, name string) error { return errors.ErrUnsupported }

// Stop returns errors.ErrUnsupported outside Linux.
func (m *Manager) Stop(ctx context.Context, name string) error { return errors.ErrUnsupported }

// List returns errors.ErrUnsupported outside Linux.
func (m *Manager) List(ctx context.Context, pattern string) ([]string, error) {
	return nil, errors.ErrUnsupported
}
