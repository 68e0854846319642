package doctor

import (
	"context"
	"time"

	"github.com/sdbuild/sdbuild/config"
)

// Options says what Gather cannot find out for itself.
type Options struct {
	// Config is the configuration to check, or ConfigErr why it did not
	// load. Configuration is read at the edge (cmd), not here.
	Config    *config.Config
	ConfigErr error
	// SystemdTimeout bounds connecting to systemd; 0 means 3 seconds.
	SystemdTimeout time.Duration
}

// Run gathers the facts of this host and judges them.
func Run(ctx context.Context, o Options) Report {
	return Diagnose(Gather(ctx, o))
}
