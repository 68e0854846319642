package slots

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"
)

// Record states.
const (
	// StateHeld: the slot is leased, or its holder died without releasing it.
	StateHeld = "held"
	// StateReleased: the holder released the slot after its build had died.
	StateReleased = "released"
)

// maxRecordSize bounds what is read from a lock file; a record is one short
// line, so anything longer is not ours.
const maxRecordSize = 64 << 10

// Record is the content of a slot's lock file: what last held the slot.
type Record struct {
	BuildID string    `json:"build_id"`
	State   string    `json:"state"` // StateHeld or StateReleased
	Since   time.Time `json:"since"`
	// PID is the build's init process and PIDStart its start time in clock
	// ticks since boot (field 22 of /proc/PID/stat): a PID is only trusted
	// while its start time still matches, so a recycled PID is never killed.
	PID      int    `json:"pid,omitempty"`
	PIDStart uint64 `json:"pid_start,omitempty"`
	Unit     string `json:"unit,omitempty"`
	// Cgroup is relative to the cgroup2 root, e.g. /sdbuild.slice/sdbuild-x.scope.
	Cgroup string `json:"cgroup,omitempty"`
	// Quarantine, when set, says why the slot could not be cleared.
	Quarantine string `json:"quarantine,omitempty"`
}

// clean reports whether the slot needs no clearing before reuse.
func (r Record) clean() bool { return r.State == StateReleased }

// encodeRecord renders r as one JSON line.
func encodeRecord(r Record) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode slot record for build %q: %w", r.BuildID, err)
	}
	return append(b, '\n'), nil
}

// decodeRecord parses a lock file's content. Only the first line counts: a
// record is rewritten in place and then truncated, so after a crash between
// the two steps the first line is still the complete new record. Empty
// content is the zero Record.
func decodeRecord(b []byte) (Record, error) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	var r Record
	if len(bytes.TrimSpace(b)) == 0 {
		return r, nil
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	if r.State != StateHeld && r.State != StateReleased {
		return Record{}, fmt.Errorf("%w: unknown state %q", ErrBadRecord, r.State)
	}
	return r, nil
}

// ReadRecord reads the record in a slot's lock file without locking it, for
// tools and the daemon's crash recovery. An empty file gives the zero Record.
// A record being rewritten at that moment may read as malformed.
func ReadRecord(path string) (Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return Record{}, fmt.Errorf("read slot record %s: %w", path, err)
	}
	defer f.Close()
	b := make([]byte, maxRecordSize)
	n, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return Record{}, fmt.Errorf("read slot record %s: %w", path, err)
	}
	r, err := decodeRecord(b[:n])
	if err != nil {
		return Record{}, fmt.Errorf("read slot record %s: %w", path, err)
	}
	return r, nil
}

// validCgroup reports whether p can name a build's cgroup: absolute, clean,
// below the root. A record is only written by the daemon, but the path is
// later used to kill as root, so a corrupt one must not reach other cgroups
// (path.Clean resolves every "..", so a clean path cannot climb).
func validCgroup(p string) bool {
	return strings.HasPrefix(p, "/") && p != "/" && path.Clean(p) == p
}

// ReadQuarantined lists the slots among the first n of dir whose records
// say they are quarantined, for tools beside the daemon (doctor). The
// reason is what the last pool to try the slot wrote; the next Acquire
// that reaches the slot tries to clear it again. A missing lock file is a
// slot never leased. It stops at the first record it cannot read.
func ReadQuarantined(dir string, n int) ([]Quarantine, error) {
	var qs []Quarantine
	for i := range n {
		rec, err := ReadRecord(LockPath(dir, i))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return qs, err
		}
		if rec.Quarantine != "" {
			qs = append(qs, Quarantine{Slot: i, Reason: rec.Quarantine})
		}
	}
	return qs, nil
}
