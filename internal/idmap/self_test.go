package idmap

import (
	"os"
	"testing"
)

func readSelf(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
