package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/buildlog"
	"github.com/sdbuild/sdbuild/history"
	"github.com/sdbuild/sdbuild/internal/version"
	"github.com/sdbuild/sdbuild/outputs"
	"github.com/sdbuild/sdbuild/slots"
)

type ctxKey struct{}

// Handler is the daemon's HTTP API.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+api.PathBuilds, d.handleSubmit)
	mux.HandleFunc("GET "+api.PathBuilds, d.handleList)
	mux.HandleFunc("GET "+api.PathBuild, d.handleGet)
	mux.HandleFunc("GET "+api.PathLog, d.handleLog)
	mux.HandleFunc("GET "+api.PathEvents, d.handleEvents)
	mux.HandleFunc("POST "+api.PathCancel, d.handleCancel)
	mux.HandleFunc("POST "+api.PathEnter, d.handleEnter)
	mux.HandleFunc("GET "+api.PathStatus, d.handleStatus)
	mux.HandleFunc("GET "+api.PathMetrics, d.handleMetrics) // metrics.go
	mux.HandleFunc("POST "+api.PathGC, d.handleGC)          // gc.go
	mux.HandleFunc("POST "+api.PathRerun, d.handleRerun)    // rerun.go
	return withVersion(mux)
}

// withVersion names the daemon's version on every response, so a client
// of another version can say so whatever it asked.
func withVersion(h http.Handler) http.Handler {
	v := version.String()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(api.HeaderVersion, v)
		h.ServeHTTP(w, r)
	})
}

// ConnContext attaches the peer's credentials to every request on c.
func (d *Daemon) ConnContext(ctx context.Context, c net.Conn) context.Context {
	cred, err := peerOf(c)
	if err != nil {
		d.log.Warn("connection without credentials", "err", err)
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, d.resolvePeer(cred))
}

func peerFrom(r *http.Request) *peer {
	p, _ := r.Context().Value(ctxKey{}).(*peer)
	return p
}

// writeError answers with a JSON api.Error whose code follows err.
func writeError(w http.ResponseWriter, err error) {
	status, code := http.StatusInternalServerError, api.CodeInternal
	switch {
	case errors.Is(err, build.ErrBadRequest), errors.Is(err, errBadInput):
		status, code = http.StatusBadRequest, api.CodeBadRequest
	case errors.Is(err, ErrForbidden):
		status, code = http.StatusForbidden, api.CodeForbidden
	case errors.Is(err, ErrNotFound), errors.Is(err, history.ErrNotFound), errors.Is(err, buildlog.ErrNotFound):
		status, code = http.StatusNotFound, api.CodeNotFound
	case errors.Is(err, ErrShuttingDown):
		status, code = http.StatusServiceUnavailable, api.CodeShutdown
	case errors.Is(err, build.ErrUnavailable):
		status, code = http.StatusServiceUnavailable, api.CodeUnavailable
	case errors.Is(err, slots.ErrNoFreeSlot):
		status, code = http.StatusServiceUnavailable, api.CodeConflict
	}
	writeJSON(w, status, &api.Error{Code: code, Message: err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

var errBadInput = errors.New("bad input")

// submitter is the client of r if it may submit builds; otherwise it
// answers r with the refusal and returns nil.
func (d *Daemon) submitter(w http.ResponseWriter, r *http.Request) *peer {
	p := peerFrom(r)
	if p == nil || !p.allowed {
		if p == nil {
			p = &peer{name: "unknown"}
		}
		writeError(w, refusal(p, d.cfg.AllowedUsers))
		return nil
	}
	return p
}

// readRequest decodes r's JSON body, at most api.MaxRequestBytes and no
// unknown field, into v; on error it answers r and returns false.
func readRequest(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, api.MaxRequestBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, fmt.Errorf("%w: request body: %w", errBadInput, err))
		return false
	}
	return true
}

func (d *Daemon) handleSubmit(w http.ResponseWriter, r *http.Request) {
	received := time.Now()
	p := d.submitter(w, r)
	if p == nil {
		return
	}
	var sr api.SubmitRequest
	if !readRequest(w, r, &sr) {
		return
	}
	x := submitExtra{avoidSlot: -1, received: received}
	if r.URL.Query().Get("follow") == "true" {
		x.follower = follower{closed: connClosed(r.Context()), pid: p.pid}
	}
	j, b, err := d.submitFromAt(p, &sr, x)
	if err != nil {
		writeError(w, err)
		return
	}
	if r.URL.Query().Get("follow") != "true" {
		writeJSON(w, http.StatusCreated, b)
		return
	}
	// Followed: the client learns the build's id from the first event
	// and its life from the rest, with no second request.
	d.streamEvents(w, r, http.StatusCreated, &api.Event{Type: api.EventSubmitted, Build: b}, b, j)
}

// submitFrom checks a client's request as the client, applies the daemon's
// limits to it, and queues it, avoiding slot avoidSlot unless it is -1.
func (d *Daemon) submitFrom(p *peer, sr *api.SubmitRequest, avoidSlot int) (*api.Build, error) {
	_, b, err := d.submitFromAt(p, sr, submitExtra{avoidSlot: avoidSlot, received: time.Now()})
	return b, err
}

// submitFromAt is submitFrom with what x says (the slot to avoid, when the
// request came, its follower); it also returns the build's job.
func (d *Daemon) submitFromAt(p *peer, sr *api.SubmitRequest, x submitExtra) (*job, *api.Build, error) {
	if sr.Output != "" && !filepath.IsAbs(sr.Output) {
		return nil, nil, fmt.Errorf("%w: output %q: must be absolute (the daemon does not know your working directory)", errBadInput, sr.Output)
	}
	if err := checkHost(&submitChecks{properties: sr.Properties, allowUnenforced: sr.AllowUnenforcedLimits, ownCgroup: d.cfg.Rootless != nil}); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errBadInput, err)
	}
	// The client's own properties were checked against the host; the
	// administrator's defaults and caps are applied whatever it lacks.
	recorded := *sr // as the client sent it: a rerun applies the limits of its day
	if err := applyLimits(&d.cfg.Ops, sr); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errBadInput, err)
	}
	if err := checkAccess(p, sr.Inputs, sr.Output); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrForbidden, err)
	}
	req := &build.Request{
		Name: sr.Name, Args: sr.Args, Env: sr.Env, Inputs: sr.Inputs, Output: sr.Output,
		Features: sr.Features, Properties: sr.Properties, Timeout: time.Duration(sr.Timeout), MaxSilentTime: time.Duration(sr.MaxSilentTime),
		Owner: outputs.Owner{UID: int(p.uid), GID: int(p.gid), Groups: p.groupIDs()}, Keep: sr.Keep,
	}
	x.request = &recorded
	return d.submitWith(p, req, x)
}

// lookup finds the build the request's id names among those the caller
// may see: active, or in the history; the id may be a unique prefix.
func (d *Daemon) lookup(r *http.Request) (*api.Build, *job, error) {
	return d.find(peerFrom(r), r.PathValue("id"))
}

func (d *Daemon) handleGet(w http.ResponseWriter, r *http.Request) {
	b, _, err := d.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func (d *Daemon) handleCancel(w http.ResponseWriter, r *http.Request) {
	b, j, err := d.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if j == nil {
		writeError(w, fmt.Errorf("%w: build %s already %s", errBadInput, b.ID, b.Status))
		return
	}
	if err := d.cancelBuild(b.ID, peerFrom(r).name); err != nil {
		writeError(w, err)
		return
	}
	select {
	case <-j.done:
	case <-r.Context().Done():
		return
	}
	writeJSON(w, http.StatusOK, d.final(j))
}

// final is a finished job's final record (its ended is closed: nothing
// changes it any more), without reading it back from the history.
func (d *Daemon) final(j *job) *api.Build {
	d.mu.Lock()
	defer d.mu.Unlock()
	return j.snapshotLocked()
}

func (d *Daemon) handleList(w http.ResponseWriter, r *http.Request) {
	p := peerFrom(r)
	if p == nil {
		writeError(w, fmt.Errorf("list builds: %w: no peer credentials", ErrForbidden))
		return
	}
	q := r.URL.Query()
	f := history.Filter{Name: q.Get("name"), Before: q.Get("before")}
	for _, s := range q["status"] {
		f.Statuses = append(f.Statuses, api.Status(s))
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			writeError(w, fmt.Errorf("%w: limit %q: not a number", errBadInput, l))
			return
		}
		f.Limit = n
	}
	if u := q.Get("user"); u != "" {
		uid, err := lookupUID(u)
		if err != nil {
			writeError(w, fmt.Errorf("%w: %w", errBadInput, err))
			return
		}
		f.UID = &uid
	}
	if !p.trusted {
		if f.UID != nil && *f.UID != p.uid {
			writeError(w, fmt.Errorf("list builds of user %s: %w: only trusted-users see other users' builds", q.Get("user"), ErrForbidden))
			return
		}
		f.UID = &p.uid
	}
	bs, err := d.store.List(f)
	if err != nil {
		writeError(w, err)
		return
	}
	// Active builds are fresher in memory than in the history.
	d.mu.Lock()
	for i, b := range bs {
		if j := d.jobs[b.ID]; j != nil {
			bs[i] = j.snapshotLocked()
		}
	}
	d.mu.Unlock()
	if bs == nil {
		bs = []*api.Build{}
	}
	writeJSON(w, http.StatusOK, bs)
}

func (d *Daemon) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, d.Status())
}

// Status reports the daemon's state.
func (d *Daemon) Status() *api.DaemonStatus {
	qs := d.pool.Quarantined()
	d.mu.Lock()
	defer d.mu.Unlock()
	s := &api.DaemonStatus{
		Version: version.String(), PID: pidSelf, Running: d.running, Queued: len(d.queue), Slots: d.cfg.Slots(),
		MaxJobs: d.cfg.MaxJobs, Since: d.since,
	}
	s.SlotsFree = d.freeSlotsLocked(len(qs))
	if pp := d.prep; pp != nil {
		s.Prepared = pp.preparedCount()
	}
	s.Finished = d.metrics.finishedCountsLocked()
	for _, q := range qs {
		s.Quarantined = append(s.Quarantined, api.Quarantine{Slot: q.Slot, Reason: q.Reason})
	}
	return s
}

func (d *Daemon) handleLog(w http.ResponseWriter, r *http.Request) {
	b, j, err := d.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var rc io.ReadCloser
	if j != nil && r.URL.Query().Get("follow") == "true" {
		rc = j.log.Follow(r.Context())
	} else if rc, err = buildlog.Open(d.logDir, b.ID); err != nil {
		writeError(w, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	copyFlushing(w, rc)
}

// copyFlushing copies a stream to the client as it comes.
func copyFlushing(w http.ResponseWriter, r io.Reader) {
	fl, _ := w.(http.Flusher)
	pump(r, func(b []byte) bool {
		if _, err := w.Write(b); err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	})
}

// pump hands r to emit in chunks of at most 32 KiB, as they come, until r
// ends or emit says stop; emit must not keep the slice.
func pump(r io.Reader, emit func([]byte) bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 && !emit(buf[:n]) {
			return
		}
		if err != nil {
			return
		}
	}
}

// handleEvents streams a build's life as NDJSON: its place in the queue,
// its start, its output, and its final record.
func (d *Daemon) handleEvents(w http.ResponseWriter, r *http.Request) {
	b, j, err := d.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if j != nil {
		d.follow(r.Context(), j)
	}
	d.streamEvents(w, r, http.StatusOK, nil, b, j)
}

// streamEvents answers r with status and the events of build b (j: its
// job while active, else nil), after first if it is not nil.
func (d *Daemon) streamEvents(w http.ResponseWriter, r *http.Request, status int, first *api.Event, b *api.Build, j *job) {
	w.Header().Set("Content-Type", api.ContentTypeEvents)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	fl, _ := w.(http.Flusher)
	send := func(e *api.Event) bool {
		if err := enc.Encode(e); err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	if first != nil && !send(first) {
		return
	}
	ctx := r.Context()
	// A log goes out in chunks: a client reads an event line of at most
	// api's limit, which a whole log need not fit.
	sendLog := func(rc io.Reader) bool {
		ok := true
		pump(rc, func(p []byte) bool {
			ok = send(&api.Event{Type: api.EventLog, Data: append([]byte(nil), p...)})
			return ok
		})
		return ok
	}
	if j != nil {
		if !d.sendQueueEvents(ctx, j, send) {
			return
		}
		lr := j.log.Follow(ctx)
		ok := sendLog(lr)
		lr.Close()
		if !ok {
			return
		}
		// The final event goes out once the build is final in memory,
		// not after its record's fsync: the job stays in d.jobs, served
		// from memory, until the record is stored, and Shutdown waits
		// for that. A crash in between leaves the record as it was
		// before (queued or running), which Recover marks interrupted.
		select {
		case <-j.ended:
		case <-ctx.Done():
			return
		}
		b = d.final(j)
	} else if rc, err := buildlog.Open(d.logDir, b.ID); err == nil {
		ok := sendLog(rc)
		rc.Close()
		if !ok {
			return
		}
	}
	send(&api.Event{Type: api.EventFinished, Build: b})
}

// sendQueueEvents reports j's queue position once it waits for a job or
// a slot (a build started at once is never said to wait), then its start.
// It returns false when the client went away.
func (d *Daemon) sendQueueEvents(ctx context.Context, j *job, send func(*api.Event) bool) bool {
	last := -1
	for {
		d.mu.Lock()
		pos, status, waiting, changed := j.position, j.b.Status, j.waiting, j.changed
		snap := j.snapshotLocked()
		d.mu.Unlock()
		switch {
		case status == api.StatusRunning && snap.Unit != "":
			return send(&api.Event{Type: api.EventStarted, Build: snap})
		case status != api.StatusQueued && status != api.StatusRunning:
			return true
		}
		if status == api.StatusQueued && waiting && pos != last {
			if !send(&api.Event{Type: api.EventQueued, Position: pos, Build: snap}) {
				return false
			}
			last = pos
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		}
	}
}
