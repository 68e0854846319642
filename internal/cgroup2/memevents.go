package cgroup2

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MemoryEvents are the counters of a cgroup's memory.events that tell how
// a build's memory limit ended it. The file exists only where the memory
// controller is enabled for the cgroup.
type MemoryEvents struct {
	Max     uint64 // times usage hit memory.max
	OOM     uint64 // times the cgroup ran out of memory
	OOMKill uint64 // processes the OOM killer killed in it (and, with memory_recursiveprot hierarchies, below)
}

// ParseMemoryEvents reads memory.events' "key value" lines; keys it does
// not know are skipped, as later kernels add some.
func ParseMemoryEvents(r io.Reader) (MemoryEvents, error) {
	var e MemoryEvents
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		var into *uint64
		switch k {
		case "max":
			into = &e.Max
		case "oom":
			into = &e.OOM
		case "oom_kill":
			into = &e.OOMKill
		default:
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return MemoryEvents{}, fmt.Errorf("parse memory.events %s: %w", k, err)
		}
		*into = n
	}
	if err := sc.Err(); err != nil {
		return MemoryEvents{}, fmt.Errorf("parse memory.events: %w", err)
	}
	return e, nil
}

// ReadMemoryEvents reads cgroup rel's memory.events. Without the memory
// controller there (a cgroup-v1 hybrid host, or a user manager without it
// delegated) the error wraps fs.ErrNotExist.
func ReadMemoryEvents(rel string) (MemoryEvents, error) {
	dir, err := Dir(rel)
	if err != nil {
		return MemoryEvents{}, err
	}
	f, err := os.Open(filepath.Join(dir, "memory.events"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return MemoryEvents{}, fmt.Errorf("read memory events of cgroup %s: no memory controller: %w", rel, err)
		}
		return MemoryEvents{}, fmt.Errorf("read memory events of cgroup %s: %w", rel, err)
	}
	defer f.Close()
	return ParseMemoryEvents(f)
}
