package buildlog

import (
	"maps"
	"sync"
)

// entry is one journal entry a recorder received.
type entry struct {
	msg    string
	fields map[string]string
}

// recorder is a sink that keeps entries in memory, or fails with fail.
type recorder struct {
	mu      sync.Mutex
	entries []entry
	fail    error
}

func (r *recorder) send(msg string, fields map[string]string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.entries = append(r.entries, entry{msg, maps.Clone(fields)})
	return nil
}

func (r *recorder) got() []entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]entry(nil), r.entries...)
}
