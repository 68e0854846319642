package api

import "time"

// Paths of the API. Every response body is JSON except a build's raw log.
const (
	PathBuilds = "/v1/builds"             // GET: list; POST: submit (?follow=true: and stream its Events)
	PathStatus = "/v1/status"             // GET: the daemon's status
	PathBuild  = "/v1/builds/{id}"        // GET: one build
	PathLog    = "/v1/builds/{id}/log"    // GET: raw log; ?follow=true streams until the build ends
	PathEvents = "/v1/builds/{id}/events" // GET: NDJSON Events until the build ends
	PathCancel = "/v1/builds/{id}/cancel" // POST
)

// MaxRequestBytes bounds a request body.
const MaxRequestBytes = 1 << 20

// SubmitRequest asks the daemon to run a build. Paths are the client's;
// the daemon checks them with the client's credentials.
type SubmitRequest struct {
	Name          string   `json:"name,omitempty"`
	Args          []string `json:"args"`
	Env           []string `json:"env,omitempty"`
	Inputs        []string `json:"inputs,omitempty"`
	Output        string   `json:"output,omitempty"` // absolute
	Features      []string `json:"features,omitempty"`
	Properties    []string `json:"properties,omitempty"` // systemd scope properties, as systemd-run -p
	Timeout       Duration `json:"timeout,omitzero"`     // "0" or absent: none
	MaxSilentTime Duration `json:"max_silent_time,omitzero"`
	// AllowUnenforcedLimits runs the build even when the host cannot
	// enforce some of Properties (its cgroup2 lacks the controller).
	AllowUnenforcedLimits bool `json:"allow_unenforced_limits,omitempty"`
	// Keep leaves a copy of the build's /build to the client: "failed"
	// when it does not succeed, "always", or "" never.
	Keep string `json:"keep,omitempty"`
}

// EventType names what an Event reports.
type EventType string

const (
	EventSubmitted EventType = "submitted" // first of a followed submission: Build as recorded
	EventQueued    EventType = "queued"    // waiting; Position is the place in the queue (1: next)
	EventStarted   EventType = "started"   // running on Build.Slot as Build.Unit
	EventLog       EventType = "log"       // Data is a chunk of the build's output
	EventFinished  EventType = "finished"  // Build is final
)

// ContentTypeEvents is the media type of an event stream: one JSON Event
// per line.
const ContentTypeEvents = "application/x-ndjson"

// Event is one line of a build's event stream.
type Event struct {
	Type     EventType `json:"type"`
	Position int       `json:"position,omitempty"`
	Data     []byte    `json:"data,omitempty"`
	Build    *Build    `json:"build,omitempty"`
}

// HeaderVersion carries the daemon's version on every response, so a
// client can warn when it and the daemon differ whatever it asked.
const HeaderVersion = "Sdbuild-Version"

// DaemonStatus is the daemon's state.
type DaemonStatus struct {
	Version   string `json:"version,omitempty"` // the daemon's build (internal/version); absent from daemons before it
	PID       int    `json:"pid"`
	Running   int    `json:"running"`
	Queued    int    `json:"queued"`
	Slots     int    `json:"slots"`
	SlotsFree int    `json:"slots_free"`
	MaxJobs   int    `json:"max_jobs"`
	// Prepared is how many sandboxes wait, prepared ahead of demand, for a
	// build (each in its own scope, holding no slot).
	Prepared    int          `json:"prepared"`
	Quarantined []Quarantine `json:"quarantined,omitempty"`
	// Finished counts the builds that ended since the daemon started, by
	// status (as GET /v1/metrics does).
	Finished map[string]int `json:"finished,omitempty"`
	Since    time.Time      `json:"since"`
}

// Quarantine is a slot that is not handed out because processes with its
// ids could not be killed.
type Quarantine struct {
	Slot   int    `json:"slot"`
	Reason string `json:"reason"`
}

// Error is the body of every error response.
type Error struct {
	Code    string `json:"code"`    // machine-readable: bad-request, forbidden, not-found, ...
	Message string `json:"message"` // what failed, on what, and what to do
}

func (e *Error) Error() string { return e.Message }

// Error codes.
const (
	CodeBadRequest = "bad-request"
	CodeForbidden  = "forbidden"
	CodeNotFound   = "not-found"
	CodeConflict   = "conflict"
	CodeShutdown   = "shutting-down"
	CodeInternal   = "internal"
	// CodeUnavailable: this host cannot sandbox builds now (the message
	// names the setting); nothing is run unsandboxed.
	CodeUnavailable = "unavailable"
)
