package daemon

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sdbuild/sdbuild/api"
)

// maxPrefixMatches bounds how many builds a prefix is checked against;
// past it the prefix is too short to pick one anyway.
const maxPrefixMatches = 64

// find returns the build id names for p, exactly or as a unique prefix of
// the ids p may see (as podman and git take short ids), and its job when
// it is active. Other users' builds never make a prefix ambiguous: to p
// they do not exist.
func (d *Daemon) find(p *peer, id string) (*api.Build, *job, error) {
	if b, j := d.get(id); b != nil {
		if p == nil || !p.mayAccess(b.UID) {
			// Someone else's build looks like no build at all.
			return nil, nil, fmt.Errorf("build %s: %w", id, ErrNotFound)
		}
		return b, j, nil
	}
	cands, err := d.store.IDsWithPrefix(id, maxPrefixMatches)
	if err != nil {
		return nil, nil, fmt.Errorf("build %s: %w", id, err)
	}
	d.mu.Lock()
	for jid := range d.jobs {
		if strings.HasPrefix(jid, id) && !slices.Contains(cands, jid) {
			cands = append(cands, jid)
		}
	}
	d.mu.Unlock()
	slices.Sort(cands)
	var found []string
	var fb *api.Build
	var fj *job
	for _, c := range cands {
		b, j := d.get(c)
		if b == nil || p == nil || !p.mayAccess(b.UID) {
			continue
		}
		found = append(found, c)
		fb, fj = b, j
	}
	switch len(found) {
	case 0:
		return nil, nil, fmt.Errorf("build %s: %w", id, ErrNotFound)
	case 1:
		return fb, fj, nil
	}
	return nil, nil, fmt.Errorf("%w: build id %q is ambiguous: it begins %s; give more of it", errBadInput, id, strings.Join(found, ", "))
}

// get returns build id, from its job while active, else the history.
func (d *Daemon) get(id string) (*api.Build, *job) {
	d.mu.Lock()
	j := d.jobs[id]
	var b *api.Build
	if j != nil {
		b = j.snapshotLocked()
	}
	d.mu.Unlock()
	if b == nil {
		var err error
		if b, err = d.store.Get(id); err != nil {
			return nil, nil
		}
	}
	return b, j
}
