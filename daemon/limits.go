package daemon

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
	"github.com/sdbuild/sdbuild/scope"
)

// unenforced returns an error for the first property whose controller the
// host's cgroup2 does not have (available lists the controllers of the
// cgroup2 root): systemd would accept the property and enforce nothing.
func unenforced(raw []string, props []scope.Property, available []string, root string) error {
	for i, p := range props {
		c := p.Controller
		if c == "" || slices.Contains(available, c) {
			continue
		}
		have := strings.Join(available, " ")
		if have == "" {
			have = "none"
		}
		return fmt.Errorf("-p %s: this host's cgroup2 (%s) has no %s controller (it has: %s; on a hybrid host it is bound to cgroup v1), so the limit would not be enforced; pass --allow-unenforced-limits to run the build without it",
			raw[i], root, c, have)
	}
	return nil
}

// checkHost refuses, before a build is queued, scope properties this host
// cannot enforce. (What features need is build.Check's, from sandbox's
// table.)
func checkHost(sr *submitChecks) error {
	props, err := parseProperties(sr.properties)
	if err != nil {
		return err
	}
	if len(props) > 0 && !sr.allowUnenforced {
		root, err := cgroup2.Root()
		if err != nil {
			return fmt.Errorf("scope properties %q: %w", sr.properties, err)
		}
		if sr.ownCgroup {
			// A user's manager has only the controllers delegated to it.
			if root, err = userManagerCgroupDir(); err != nil {
				return fmt.Errorf("scope properties %q: %w", sr.properties, err)
			}
		}
		have, err := cgroup2.ControllersDir(root)
		if err != nil {
			return fmt.Errorf("scope properties %q: %w", sr.properties, err)
		}
		if err := unenforced(sr.properties, props, have, root); err != nil {
			return err
		}
	}
	return nil
}

// submitChecks is what checkHost looks at in a request.
type submitChecks struct {
	properties      []string
	allowUnenforced bool
	// ownCgroup: the controllers are those of the daemon's own cgroup (a
	// user's daemon), not the host's.
	ownCgroup bool
}

// userManagerCgroupDir is the cgroup2 directory of the user manager this
// process runs under (user@UID.service), whose cgroup.controllers are the
// controllers delegated to the user; this process's own cgroup when it
// runs under none.
func userManagerCgroupDir() (string, error) {
	own, err := cgroup2.Own("self")
	if err != nil {
		return "", err
	}
	return cgroup2.Dir(userManagerCgroup(own))
}

// userManagerCgroup cuts a cgroup path after its user@UID.service
// component, if it has one.
func userManagerCgroup(rel string) string {
	parts := strings.Split(rel, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, "user@") && strings.HasSuffix(p, ".service") {
			return strings.Join(parts[:i+1], "/")
		}
	}
	return rel
}
