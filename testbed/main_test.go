package testbed

import (
	"os"
	"testing"
)

// TestMain lets this test binary be the namespace stage, as Boot starts it.
func TestMain(m *testing.M) {
	Reexec()
	os.Exit(m.Run())
}
