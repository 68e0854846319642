package daemon

import (
	"fmt"
	"net/http"
	"time"

	"github.com/sdbuild/sdbuild/api"
)

// submitExtra is what a submission through the API adds to the request.
type submitExtra struct {
	request   *api.SubmitRequest // recorded with the build, for reruns
	avoidSlot int                // -1: any slot
	received  time.Time          // when the request came (the record's phases start there)
	// follower is the client that submitted the build and follows it
	// (followers.go); its closed is nil for none.
	follower follower
}

// lease takes a slot for j, another than j.avoidSlot when one is free:
// holding the slot to avoid, it asks for a second and gives the first
// back. With no second slot free the build runs where it can, which its
// record shows.
func (d *Daemon) lease(j *job) (Lease, error) {
	l, err := d.runner.Lease(j.id)
	if err != nil || j.avoidSlot < 0 || l.Slot() != j.avoidSlot {
		return l, err
	}
	other, err := d.runner.Lease(j.id)
	if err != nil {
		return l, nil
	}
	l.Release()
	return other, nil
}

// handleRerun queues a finished build's stored request again. A rerun is
// a new build by the caller, who must be the build's own user: it runs
// with the caller's credentials, its inputs checked and opened as the
// caller exactly as a new submission's, so a rerun can read nothing its
// caller could not read with sdbuild run.
func (d *Daemon) handleRerun(w http.ResponseWriter, r *http.Request) {
	p := d.submitter(w, r)
	if p == nil {
		return
	}
	var rr api.RerunRequest
	if !readRequest(w, r, &rr) {
		return
	}
	b, _, err := d.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	sr, err := rerunRequest(b, p, &rr)
	if err != nil {
		writeError(w, err)
		return
	}
	avoid := -1
	if rr.OtherSlot {
		avoid = b.Slot
	}
	nb, err := d.submitFrom(p, sr, avoid)
	if err != nil {
		writeError(w, fmt.Errorf("rerun build %s: %w", b.ID, err))
		return
	}
	writeJSON(w, http.StatusCreated, nb)
}

// rerunRequest is the request a rerun of b by p submits.
func rerunRequest(b *api.Build, p *peer, rr *api.RerunRequest) (*api.SubmitRequest, error) {
	if b.UID != p.uid {
		return nil, fmt.Errorf("rerun build %s: %w: it is %s's build and a rerun runs as you; run its command with sdbuild run instead", b.ID, ErrForbidden, b.User)
	}
	if !b.Status.Finished() {
		return nil, fmt.Errorf("rerun build %s: %w: it is still %s; wait for it to end", b.ID, errBadInput, b.Status)
	}
	if b.Request == nil {
		return nil, fmt.Errorf("rerun build %s: %w: its record predates stored requests; run its command with sdbuild run", b.ID, errBadInput)
	}
	sr := *b.Request
	sr.Output = rr.Output
	return &sr, nil
}
