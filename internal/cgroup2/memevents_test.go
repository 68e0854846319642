package cgroup2

import (
	"strings"
	"testing"
)

// This host's cgroup2 has no memory controller, so the counters are
// tested on text as the kernel writes it.
func TestParseMemoryEvents(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     MemoryEvents
		err      bool
	}{
		{"no events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n", MemoryEvents{}, false},
		{"an OOM kill", "low 0\nhigh 0\nmax 57\noom 1\noom_kill 1\noom_group_kill 0\n", MemoryEvents{Max: 57, OOM: 1, OOMKill: 1}, false},
		{"an older kernel", "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n", MemoryEvents{Max: 3, OOM: 2, OOMKill: 2}, false},
		{"a malformed counter", "oom_kill x\n", MemoryEvents{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMemoryEvents(strings.NewReader(tt.in))
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("ParseMemoryEvents = %+v, %v; want %+v (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}
