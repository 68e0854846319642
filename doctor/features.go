package doctor

import (
	"fmt"
	"strings"

	"github.com/sdbuild/sdbuild/sandbox"
)

// FeatureNested is what doctor reports beyond sandbox's features: whether
// a build can run containers (systemd-nspawn) of its own, which takes
// uid-range and systemd-cgroup together.
const FeatureNested = "nested-containers"

// checkFeatures derives each feature from the checks it depends on, so a
// feature is never reported available when a check it needs is not ok.
func checkFeatures(h *Host, checks []Item) []Item {
	need := func(names ...string) []string {
		var unmet []string
		for _, n := range names {
			if c, found := find(checks, n); !found || c.Status == Missing {
				unmet = append(unmet, n)
			}
		}
		return unmet
	}
	var out []Item

	rootless := h.Config != nil && h.Config.Rootless != nil
	uidRange := need(namespaceCheck("user"), "id range", "id mapping")
	switch {
	case rootless && !h.Config.Rootless.HasSubIDs():
		// checkSubIDs reports only the missing grant then.
		uidRange = append(need(namespaceCheck("user")), "a range in /etc/subuid and /etc/subgid")
	case rootless:
		uidRange = need(namespaceCheck("user"), "subordinate ids", binNewuidmap, binNewgidmap)
	}
	if h.Config != nil && h.Config.IDsPerBuild < fullRange && (!rootless || h.Config.Rootless.HasSubIDs()) {
		uidRange = append(uidRange, fmt.Sprintf("ids-per-build = %d (needs %d)", h.Config.IDsPerBuild, fullRange))
	}
	out = append(out, feature(string(sandbox.FeatureUIDRange), uidRange,
		fmt.Sprintf("a build can be root over its slot's %d ids", fullRange)))

	sdCgroup := need("systemd D-Bus", "cgroup2", "cgroup delegation", namespaceCheck("cgroup"))
	if len(uidRange) > 0 {
		sdCgroup = append(sdCgroup, string(sandbox.FeatureUIDRange))
	}
	out = append(out, feature(string(sandbox.FeatureSystemdCgroup), sdCgroup,
		"a build can be given its scope's delegated cgroup"))

	// slirp4netns opens the tap device through the host's /dev/net/tun
	// before it joins the build's network namespace.
	network := need(namespaceCheck("network"))
	slirp, haveSlirp := h.Executables[binSlirp]
	if !haveSlirp {
		network = append(network, binSlirp+" on PATH (Debian package slirp4netns)")
	}
	if !charDevice(h, sandbox.DevTUN) {
		network = append(network, sandbox.DevTUN)
	}
	out = append(out, feature(string(sandbox.FeatureNetwork), network,
		fmt.Sprintf("%s at %s gives a build a route out", binSlirp, slirp)))

	if rootless {
		for _, f := range []sandbox.Feature{sandbox.FeatureKVM, sandbox.FeatureTUN} {
			out = append(out, missing(string(f), "needs root: a build's own device node can only be made by the system daemon (sdbuild --system)"))
		}
	} else {
		out = append(out, deviceFeature(h, sandbox.FeatureKVM, sandbox.DevKVM), deviceFeature(h, sandbox.FeatureTUN, sandbox.DevTUN))
	}

	var nested []string
	if len(sdCgroup) > 0 {
		nested = append(nested, string(sandbox.FeatureSystemdCgroup))
	}
	nspawn, haveNspawn := h.Executables[binNspawn]
	if !haveNspawn {
		nested = append(nested, binNspawn+" on PATH (Debian package systemd-container)")
	}
	out = append(out, feature(FeatureNested, nested,
		fmt.Sprintf("%s at %s runs in a build with --feature %s --feature %s", binNspawn, nspawn, sandbox.FeatureUIDRange, sandbox.FeatureSystemdCgroup)))
	return out
}

// feature is available when nothing it needs is unmet.
func feature(name string, unmet []string, available string) Item {
	if len(unmet) == 0 {
		return ok(name, available)
	}
	return missing(name, "needs "+strings.Join(unmet, ", "))
}

func charDevice(h *Host, path string) bool {
	d := h.Devices[path]
	return d.Exists && d.Char
}

// deviceFeature reports a feature that gives a build its own node of a
// host character device.
func deviceFeature(h *Host, f sandbox.Feature, path string) Item {
	name := string(f)
	d := h.Devices[path]
	switch {
	case !d.Exists:
		return missing(name, "no "+path)
	case !d.Char:
		return missing(name, path+" is not a character device")
	}
	return ok(name, fmt.Sprintf("%s is a character device (%d:%d): a build with --feature %s gets its own node of it", path, d.Major, d.Minor, name))
}
