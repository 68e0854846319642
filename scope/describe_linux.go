package scope

import (
	"context"
	"fmt"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// SetDescription changes a running unit's description (systemd sets
// Description live, at runtime, for any unit), for a scope started before
// anyone knew what it would hold.
func (m *Manager) SetDescription(ctx context.Context, name, desc string) error {
	err := m.do(ctx, func(c *conn) error {
		return c.SetUnitPropertiesContext(ctx, name, true, sddbus.Property{Name: "Description", Value: dbus.MakeVariant(desc)})
	})
	if err != nil {
		return fmt.Errorf("describe scope %s: %w", name, err)
	}
	return nil
}
