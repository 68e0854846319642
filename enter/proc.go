package enter

import (
	"strconv"
	"strings"
)

// firstChild is the first pid of a /proc/<pid>/task/<tid>/children file.
func firstChild(s string) (int, bool) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// statusField is the value of one field of /proc/<pid>/status.
func statusField(status, key string) (string, bool) {
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}
