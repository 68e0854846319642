package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// UserNSKnob is a setting that can forbid users without root to create
// user namespaces: its sysctl name, the value that forbids, and the fix.
type UserNSKnob struct {
	Name, Forbids, Fix string
	// Limit: a namespace count limit, which doctor reports with the user
	// namespace itself (see Namespaces), not as a distribution knob.
	Limit bool
}

// File is the knob's path below /proc/sys.
func (k UserNSKnob) File() string { return strings.ReplaceAll(k.Name, ".", "/") }

// UserNSKnobs are the settings that can forbid users without root to
// create user namespaces, for the daemon's refusal and for doctor.
var UserNSKnobs = []UserNSKnob{
	{Name: "kernel.unprivileged_userns_clone", Forbids: "0", Fix: "sysctl -w kernel.unprivileged_userns_clone=1"},
	{Name: "user.max_user_namespaces", Forbids: "0", Fix: "sysctl -w user.max_user_namespaces=15000", Limit: true},
	{Name: "kernel.apparmor_restrict_unprivileged_userns", Forbids: "1",
		Fix: `give sdbuildd and sdbuild-init an AppArmor profile with "userns,", or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`},
}

// ErrNoUserNS: this host does not let users without root create user
// namespaces, so a user's own daemon cannot sandbox builds.
var ErrNoUserNS = errors.New("unprivileged user namespaces are disabled")

// UserNSSetting names the setting in sysctlDir (/proc/sys) that forbids
// users without root to create user namespaces, and its fix; "" when none
// does.
func UserNSSetting(sysctlDir string) (setting, fix string) {
	for _, k := range UserNSKnobs {
		b, err := os.ReadFile(sysctlDir + "/" + k.File())
		if err == nil && strings.TrimSpace(string(b)) == k.Forbids {
			return k.Name + " = " + k.Forbids, k.Fix
		}
	}
	return "", ""
}

// CheckUnprivilegedUserNS checks that this process, without root, can
// create the user namespace every build needs, and when not, names the
// setting that forbids it. sdbuild never falls back to building without
// one.
func CheckUnprivilegedUserNS() error {
	err := ProbeNamespace(context.Background(), Namespaces[0], os.Geteuid())
	if err == nil {
		return nil
	}
	if setting, fix := UserNSSetting("/proc/sys"); setting != "" {
		return fmt.Errorf("%w: %s (%s); builds are refused, never run unsandboxed", ErrNoUserNS, setting, fix)
	}
	return fmt.Errorf("%w: creating one fails with %v (a security module? see sdbuild doctor); builds are refused, never run unsandboxed", ErrNoUserNS, err)
}
