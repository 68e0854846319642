package api

import "time"

// Status is where a build is in its life.
type Status string

const (
	StatusQueued      Status = "queued"
	StatusRunning     Status = "running"
	StatusSucceeded   Status = "succeeded"
	StatusFailed      Status = "failed"
	StatusCancelled   Status = "cancelled"
	StatusTimedOut    Status = "timed-out"
	StatusInterrupted Status = "interrupted" // the daemon stopped or died while it ran
)

// Statuses are all statuses, in the order of a build's life.
var Statuses = []Status{StatusQueued, StatusRunning, StatusSucceeded, StatusFailed, StatusCancelled, StatusTimedOut, StatusInterrupted}

// Finished reports whether s is a final status.
func (s Status) Finished() bool {
	switch s {
	case StatusQueued, StatusRunning:
		return false
	}
	return true
}

// Outcome is where a build stands, and once it is final how it ended: the
// one shape every front end reports (sdbuild run --local, the daemon's
// records, the API).
type Outcome struct {
	// Cause says why a build that did not succeed ended, one of the
	// Cause… values (cause.go); CancelledBy names who cancelled it.
	Cause       string `json:"cause,omitempty"`
	CancelledBy string `json:"cancelled_by,omitempty"`
	Status      Status `json:"status"`
	ExitCode    int    `json:"exit_code"`        // the builder's exit status; 128+n for signal n
	Signal      int    `json:"signal,omitempty"` // the signal that killed the builder
	// CoreDumped: the kernel dumped the killed builder's core (through a
	// core_pattern pipe: a build's own core limit is 0).
	CoreDumped bool `json:"core_dumped,omitempty"`
	// OOMKilled: the kernel's OOM killer killed a process of the build
	// (its scope's memory.events counted an oom_kill).
	OOMKilled bool   `json:"oom_killed,omitempty"`
	Limit     string `json:"limit,omitempty"` // timeout or max-silent-time, when one fired
	Error     string `json:"error,omitempty"` // why it failed, in words
}

// Build is one build as sdbuild records and reports it.
type Build struct {
	ID       string   `json:"id"`
	Name     string   `json:"name,omitempty"`
	User     string   `json:"user"`
	UID      uint32   `json:"uid"`
	Unit     string   `json:"unit,omitempty"`
	Slot     int      `json:"slot"` // -1 until it has one
	Args     []string `json:"args"`
	Features []string `json:"features,omitempty"`
	Output   string   `json:"output,omitempty"`

	Outcome

	Created  time.Time `json:"created"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`

	// What the build's cgroup measured, where the host's cgroup2 has the
	// controller (0 otherwise).
	CPUUsec    uint64 `json:"cpu_usec,omitempty"`
	MemoryPeak uint64 `json:"memory_peak,omitempty"`
	TasksPeak  uint64 `json:"tasks_peak,omitempty"`
	// io.stat's bytes read and written, where the io controller exists.
	IOReadBytes  uint64 `json:"io_read_bytes,omitempty"`
	IOWriteBytes uint64 `json:"io_write_bytes,omitempty"`
	// Request is the whole request the build ran, for sdbuild rerun;
	// records from before it was stored have none.
	Request *SubmitRequest `json:"request,omitempty"`
	// KeptDir is the build directory left for the caller (--keep,
	// --keep-failed), owned by the caller; gc removes it after
	// keep-build-dirs.
	KeptDir string `json:"kept_dir,omitempty"`

	// Phases are how long each step of the build took, by the clock of
	// the process that ran it, in order (sdbuild bench prints them).
	Phases []Phase `json:"phases,omitempty"`
}

// Phase is one step of a build and how long it took. Steps that overlap
// another (the scope starts while init builds the root) say so in Name.
type Phase struct {
	Name string  `json:"name"`
	Ms   float64 `json:"ms"`
}
