//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/api"
)

// preparedScopes are the build scopes whose sandbox waits for a request,
// as systemctl shows them, by build id.
func preparedScopes(t *testing.T) []string {
	t.Helper()
	return preparedScopesOf(t, func(args ...string) string { return systemctl(t, args...) })
}

// preparedScopesOf is preparedScopes of the manager systemctl talks to.
func preparedScopesOf(t *testing.T, systemctl func(args ...string) string) []string {
	t.Helper()
	out := systemctl("list-units", "--plain", "--no-legend", "--state=active", "sdbuild-*.scope")
	re := regexp.MustCompile(`^sdbuild-([0-9a-f]{12})\.scope .*sdbuild build [0-9a-f]{12}: sandbox prepared, waiting for a request$`)
	var ids []string
	for _, l := range strings.Split(out, "\n") {
		if m := re.FindStringSubmatch(strings.Join(strings.Fields(l), " ")); m != nil {
			ids = append(ids, m[1])
		}
	}
	return ids
}

// Sandboxes prepared ahead of demand are visible (a scope each, described
// as waiting, counted by status), hold no slot, and each serves exactly
// one build, the one that takes its id; a build with a feature starts the
// ordinary way.
func TestPreparedSandboxes(t *testing.T) {
	sdbuild(t, nil, "status") // the first call starts the daemon
	var waiting []string
	waitFor(t, "prepared sandboxes", func() bool { waiting = preparedScopes(t); return len(waiting) > 0 })
	// A scope says it waits from its start; status counts the sandbox
	// once its root is built, a moment later.
	var st api.DaemonStatus
	waitFor(t, "status to count prepared sandboxes", func() bool {
		r := sdbuild(t, nil, "status", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
			t.Fatalf("status --json: %v %q", err, r.stdout)
		}
		return st.Prepared > 0
	})
	if st.SlotsFree != st.Slots {
		t.Errorf("status: %d prepared, %d of %d slots free; want them holding no slot", st.Prepared, st.SlotsFree, st.Slots)
	}

	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		waiting = readyPrepared(t, 1, func() int { return preparedCount(t) }, func() []string { return preparedScopes(t) })
		r := sdbuild(t, nil, runArgs([]string{"--json", "--name", "prepared-test"}, `echo hi > $out/x; cat /proc/self/cgroup`)...)
		var b api.Build
		if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || r.code != 0 {
			t.Fatalf("run: %d %v %q %q", r.code, err, r.stdout, r.stderr)
		}
		if !slices.Contains(waiting, b.ID) {
			t.Errorf("build %s did not take a prepared sandbox (waiting: %v)", b.ID, waiting)
		}
		if seen[b.ID] {
			t.Errorf("build id %s used twice", b.ID)
		}
		seen[b.ID] = true
		if slices.Contains(preparedScopes(t), b.ID) {
			t.Errorf("the scope of finished build %s still says it waits", b.ID)
		}
		if !strings.Contains(r.stderr, "0::/\n") {
			t.Errorf("build %s: its cgroup namespace is not rooted at its own cgroup: %q", b.ID, r.stderr)
		}
	}

	// Described as its build while it runs.
	r := sdbuild(t, nil, runArgs([]string{"--detach", "--name", "prepared-desc"}, `sleep 1000`)...)
	id := strings.TrimSpace(r.stdout)
	unit := "sdbuild-" + id + ".scope"
	waitFor(t, "the build's scope", func() bool {
		return strings.Contains(systemctl(t, "show", "-p", "Description", unit), "sdbuild build "+id+" (prepared-desc)")
	})
	sdbuild(t, nil, "cancel", id)
	waitGone(t, unit, func() string { return systemctl(t, "is-active", unit) })

	// A build with a feature does not take one.
	waitFor(t, "a prepared sandbox", func() bool { waiting = preparedScopes(t); return len(waiting) > 0 })
	r = sdbuild(t, nil, runArgs([]string{"--json", "--feature", "uid-range"}, `true`)...)
	var b api.Build
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || r.code != 0 {
		t.Fatalf("run --feature uid-range: %d %v %q %q", r.code, err, r.stdout, r.stderr)
	}
	if slices.Contains(waiting, b.ID) {
		t.Errorf("build %s with a feature took a prepared sandbox", b.ID)
	}

	// Prepared sandboxes whose scopes were stopped by hand are passed
	// over: the next build still runs.
	waitFor(t, "a prepared sandbox", func() bool { waiting = preparedScopes(t); return len(waiting) > 0 })
	for _, id := range waiting {
		systemctl(t, "stop", "sdbuild-"+id+".scope")
	}
	r = sdbuild(t, nil, runArgs([]string{"--json"}, `true`)...)
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || r.code != 0 {
		t.Fatalf("run after the prepared scopes were stopped: %d %v %q %q", r.code, err, r.stdout, r.stderr)
	}
	if slices.Contains(waiting, b.ID) {
		t.Errorf("build %s ran in a sandbox whose scope was stopped", b.ID)
	}
}

// preparedCount is how many prepared sandboxes the daemon's status counts.
func preparedCount(t *testing.T) int {
	t.Helper()
	return preparedCountOf(t, sdbuild(t, nil, "status", "--json"))
}

// preparedCountOf is the Prepared of a status --json answer.
func preparedCountOf(t *testing.T, r result) int {
	t.Helper()
	var st api.DaemonStatus
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status --json: %v %q", err, r.stdout)
	}
	return st.Prepared
}

// readyPrepared waits until status counts at least n prepared sandboxes,
// whose roots are built and which the next builds take, and returns the
// scopes that say they wait, theirs among them. (A scope says it waits as
// soon as it starts, before its sandbox is ready: a build queued then
// starts the ordinary way.)
func readyPrepared(t *testing.T, n int, count func() int, scopes func() []string) []string {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d prepared sandboxes ready", n), func() bool { return count() >= n })
	return scopes()
}

// Sandboxes taken by queued builds that are cancelled before they run are
// replaced at once, not only when some other build ends.
func TestPreparedReplacedAfterCancelledQueued(t *testing.T) {
	sdbuild(t, nil, "status")
	waitFor(t, "every sandbox prepared", func() bool { return preparedCount(t) >= testSlots+2 })
	// Both slots busy: the next builds wait, each with a sandbox of its own.
	var running, queued []string
	for range testSlots {
		running = append(running, detached(t, nil, nil, "sleep 1000"))
	}
	defer func() {
		for _, id := range running {
			sdbuild(t, nil, "cancel", id)
		}
		for _, id := range running {
			finalOf(t, id)
		}
	}()
	for range 2 {
		queued = append(queued, detached(t, nil, nil, "true"))
	}
	for _, id := range queued {
		if b := show(t, id); b.Status != api.StatusQueued {
			t.Fatalf("build %s is %s, want queued behind the two running", id, b.Status)
		}
	}
	for _, id := range queued {
		sdbuild(t, nil, "cancel", id)
		finalOf(t, id)
	}
	// The running builds' sandboxes are replaced when they end; the
	// cancelled ones' now.
	waitFor(t, "the cancelled builds' sandboxes replaced while the others run", func() bool { return preparedCount(t) >= 2 })
}
