package scope

import (
	"fmt"
	"slices"
	"strings"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// Spec describes the scope for one build.
type Spec struct {
	Name        string   // unit name, "sdbuild-<id>.scope"
	Slice       string   // parent slice, "sdbuild.slice"; systemd makes it if no unit file exists
	Description string   // shown by systemctl status
	PIDs        []uint32 // the build's first processes; at least one (systemd refuses an empty scope)
	Properties  []Property
}

// Scope is a started scope.
type Scope struct {
	Name string
	// Cgroup is the scope's ControlGroup, relative to the cgroup2 mount as
	// systemd sees it, e.g. /sdbuild.slice/sdbuild-7.scope.
	Cgroup string
}

// collectMode makes systemd unload a scope once it is inactive or failed, so
// failed scopes do not pile up and names can be reused.
const collectMode = "inactive-or-failed"

// validate checks what systemd would refuse, with errors that say why.
func (s Spec) validate() error {
	if !validUnitName(s.Name, ".scope") {
		return fmt.Errorf("scope name %q: %w: want NAME.scope with letters, digits and -_.:\\", s.Name, ErrInvalidSpec)
	}
	if s.Slice != "" && !validUnitName(s.Slice, ".slice") {
		return fmt.Errorf("scope %s: slice %q: %w: want NAME.slice", s.Name, s.Slice, ErrInvalidSpec)
	}
	if len(s.PIDs) == 0 {
		return fmt.Errorf("scope %s: %w: no pids (systemd refuses a scope without processes)", s.Name, ErrInvalidSpec)
	}
	for _, pid := range s.PIDs {
		if pid == 0 {
			return fmt.Errorf("scope %s: %w: pid 0", s.Name, ErrInvalidSpec)
		}
	}
	for _, p := range s.Properties {
		if slices.Contains(reserved, p.Name) {
			return fmt.Errorf("scope %s: property %s: %w: sdbuild sets it itself", s.Name, p.Name, ErrInvalidProperty)
		}
	}
	return nil
}

// dbusProperties returns the StartTransientUnit properties for s.
func (s Spec) dbusProperties() []sddbus.Property {
	props := []sddbus.Property{
		sddbus.PropDescription(s.Description),
		{Name: "Delegate", Value: dbus.MakeVariant(true)},
		{Name: "CollectMode", Value: dbus.MakeVariant(collectMode)},
		// PIDFDs would close the pid reuse race, but needs systemd 255.
		sddbus.PropPids(s.PIDs...),
	}
	if s.Slice != "" {
		props = append(props, sddbus.PropSlice(s.Slice))
	}
	for _, p := range s.Properties {
		props = append(props, sddbus.Property{Name: p.Name, Value: p.Value})
	}
	return props
}

// validUnitName reports whether name is NAME+suffix with systemd's unit name
// characters.
func validUnitName(name, suffix string) bool {
	prefix, ok := strings.CutSuffix(name, suffix)
	if !ok || prefix == "" || len(name) > 255 {
		return false
	}
	for _, c := range prefix {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(`-_.:\`, c)) {
			return false
		}
	}
	return true
}
