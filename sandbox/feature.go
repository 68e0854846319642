package sandbox

import (
	"fmt"
	"sort"
	"strings"
)

// Feature is an optional capability a build asks for.
type Feature string

const (
	// FeatureUIDRange makes the builder root over all ids of its slot
	// instead of one unprivileged id.
	FeatureUIDRange Feature = "uid-range"
	// FeatureSystemdCgroup hands the build's delegated cgroup to the build.
	FeatureSystemdCgroup Feature = "systemd-cgroup"
	// FeatureNetwork gives the build's own network namespace a route out:
	// the builder's, which with FeatureSystemdCgroup is not init's.
	FeatureNetwork Feature = "network"
	// FeatureKVM gives the build /dev/kvm, to start virtual machines.
	FeatureKVM Feature = "kvm"
	// FeatureTUN gives the build /dev/net/tun, for tun/tap devices in its
	// own network namespaces.
	FeatureTUN Feature = "tun"
)

// Features is a set of requested features.
type Features struct {
	UIDRange      bool `json:"uid_range,omitempty"`
	SystemdCgroup bool `json:"systemd_cgroup,omitempty"`
	Network       bool `json:"network,omitempty"`
	KVM           bool `json:"kvm,omitempty"`
	TUN           bool `json:"tun,omitempty"`
}

// ParseFeatures turns feature names into a set. An unknown name is an
// error that names it and lists the known ones.
func ParseFeatures(names []string) (Features, error) {
	var f Features
	for _, n := range names {
		switch Feature(strings.TrimSpace(n)) {
		case FeatureUIDRange:
			f.UIDRange = true
		case FeatureSystemdCgroup:
			f.SystemdCgroup = true
		case FeatureNetwork:
			f.Network = true
		case FeatureKVM:
			f.KVM = true
		case FeatureTUN:
			f.TUN = true
		default:
			return Features{}, fmt.Errorf("feature %q: %w (known: %s)", n, ErrUnknownFeature, knownFeatureList())
		}
	}
	return f, nil
}

// Names lists the features in f, sorted.
func (f Features) Names() []string {
	var out []string
	for _, x := range KnownFeatures() {
		if f.Has(x) {
			out = append(out, string(x))
		}
	}
	sort.Strings(out)
	return out
}

func knownFeatureList() string {
	known := KnownFeatures()
	s := make([]string, len(known))
	for i, f := range known {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}
