package daemon

import (
	"context"
	"testing"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/internal/version"
)

// The daemon's version is in /v1/status and on every response, so a
// client of another version can warn whatever it asked.
func TestStatusVersion(t *testing.T) {
	var n notes
	c := api.NewClient(serving(t, newTestDaemon(t, &n)))
	var seen string
	c.OnVersion = func(v string) { seen = v }
	s, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != version.String() || seen != version.String() {
		t.Errorf("status version %q, header %q; want %q", s.Version, seen, version.String())
	}
	seen = ""
	if _, err := c.Get(context.Background(), "no-such-build"); err == nil || seen != version.String() {
		t.Errorf("Get of a missing build: error %v, header %q; want an error and version %q", err, seen, version.String())
	}
}
