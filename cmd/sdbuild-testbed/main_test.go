package main

import (
	"os"
	"testing"

	"github.com/sdbuild/sdbuild/testbed"
)

// TestMain lets this test binary be a testbed's namespace stage.
func TestMain(m *testing.M) {
	testbed.Reexec()
	os.Exit(m.Run())
}
