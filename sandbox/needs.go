package sandbox

import "fmt"

// Needs is what one feature requires, of the host and of how sdbuild runs
// the build. It is the one statement of those rules: the build's checks
// before anything starts (build.Check), the spec's own validation and the
// daemon's refusals read it, and sdbuild doctor derives each feature's
// availability from it.
type Needs struct {
	// Why says in a few words what the feature gives a build.
	Why string
	// With are features that must be requested with it, and why.
	With []With
	// Namespaces are the kinds of namespace it needs beyond the basic
	// sandbox's ("user", "cgroup", "network").
	Namespaces []string
	// FullRange: the build is root over a whole slot of 65536 ids, so
	// ids-per-build must be 65536, and a user's own daemon needs a
	// subordinate id range (newuidmap and newgidmap) to map it.
	FullRange bool
	// Scope: the build's own delegated systemd scope, which only the
	// daemon makes (not run --local), on a host with cgroup2 and a
	// readable /sys/kernel/cgroup/delegate.
	Scope bool
	// Root: only the system daemon (root) can provide it; a user's own
	// daemon cannot.
	Root bool
	// Devices are host character devices it needs.
	Devices []Device
	// Executables must be on PATH.
	Executables []Executable
	// Uses are executables a build with the feature commonly runs; doctor
	// mentions them, nothing refuses the feature without them.
	Uses []Executable
}

// With is a feature another one needs alongside, and why.
type With struct {
	Feature Feature
	Why     string
}

// Device is a host character device a feature needs, and what to do when
// it is missing.
type Device struct {
	Path string
	Hint string
}

// Executable is a program a feature needs on PATH, and the Debian package
// that has it.
type Executable struct {
	Name    string
	Package string
}

func (e Executable) String() string {
	return fmt.Sprintf("%s on PATH (Debian package %s)", e.Name, e.Package)
}

// Device nodes the kvm and tun features give.
const (
	DevKVM = "/dev/kvm"
	DevTUN = "/dev/net/tun"
)

// Slirp4netns gives a network build its route out; Nspawn is what a
// systemd-cgroup build commonly runs.
var (
	Slirp4netns = Executable{Name: "slirp4netns", Package: "slirp4netns"}
	Nspawn      = Executable{Name: "systemd-nspawn", Package: "systemd-container"}
)

// featureNeeds is the table; its order is the order features are listed in.
var featureNeeds = []struct {
	f     Feature
	needs Needs
}{
	{FeatureUIDRange, Needs{
		Why:        "root over its slot's 65536 ids",
		Namespaces: []string{"user"},
		FullRange:  true,
	}},
	{FeatureSystemdCgroup, Needs{
		Why:        "its scope's delegated cgroup, for a systemd inside",
		With:       []With{{FeatureUIDRange, "systemd inside a build must be root over a range of ids"}},
		Namespaces: []string{"cgroup"},
		Scope:      true,
		Uses:       []Executable{Nspawn},
	}},
	{FeatureNetwork, Needs{
		Why:         "a route out of its own network namespace",
		Namespaces:  []string{"network"},
		Devices:     []Device{{DevTUN, "load the tun module"}}, // slirp4netns opens its tap through the host's node
		Executables: []Executable{Slirp4netns},
	}},
	{FeatureKVM, Needs{
		Why:     "its own /dev/kvm node",
		Root:    true,
		Devices: []Device{{DevKVM, "load the kvm_intel or kvm_amd module, or build on a host with hardware virtualization"}},
	}},
	{FeatureTUN, Needs{
		Why:     "its own /dev/net/tun node",
		Root:    true,
		Devices: []Device{{DevTUN, "load the tun module"}},
	}},
}

// NeedsOf returns what f needs; ok is false for an unknown feature.
func NeedsOf(f Feature) (n Needs, ok bool) {
	for _, e := range featureNeeds {
		if e.f == f {
			return e.needs, true
		}
	}
	return Needs{}, false
}

// KnownFeatures lists every feature, in the table's order.
func KnownFeatures() []Feature {
	out := make([]Feature, len(featureNeeds))
	for i, e := range featureNeeds {
		out[i] = e.f
	}
	return out
}

// Has reports whether the set f holds feature x.
func (f Features) Has(x Feature) bool {
	switch x {
	case FeatureUIDRange:
		return f.UIDRange
	case FeatureSystemdCgroup:
		return f.SystemdCgroup
	case FeatureNetwork:
		return f.Network
	case FeatureKVM:
		return f.KVM
	case FeatureTUN:
		return f.TUN
	}
	return false
}

// Each calls fn for each feature of the set, with what it needs, in the
// table's order, and stops at fn's first error.
func (f Features) Each(fn func(Feature, Needs) error) error {
	for _, e := range featureNeeds {
		if f.Has(e.f) {
			if err := fn(e.f, e.needs); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkCombination refuses a set in which a feature lacks one it needs.
func (f Features) checkCombination() error {
	return f.Each(func(x Feature, n Needs) error {
		for _, w := range n.With {
			if !f.Has(w.Feature) {
				return fmt.Errorf("feature %s needs feature %s (%s)", x, w.Feature, w.Why)
			}
		}
		return nil
	})
}
