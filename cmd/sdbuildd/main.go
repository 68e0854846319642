// Command sdbuildd is the sdbuild daemon. It checks the configuration and
// the UID slot pool it would serve builds from.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/sandbox"
	"github.com/sdbuild/sdbuild/slots"
)

func main() {
	sandbox.MaybeInit()
	fs := pflag.NewFlagSet("sdbuildd", pflag.ContinueOnError)
	config.AddFlags(fs)
	check := fs.Bool("check", false, "check the configuration and the slot pool, then exit")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if err := run(fs, *check); err != nil {
		fmt.Fprintf(os.Stderr, "sdbuildd: %v\n", err)
		os.Exit(1)
	}
}

func run(fs *pflag.FlagSet, check bool) error {
	cfg, err := config.Load(config.Source{Environ: os.Environ(), Flags: fs})
	if err != nil {
		return err
	}
	if err := cfg.CheckHostIDs(); err != nil {
		return err
	}
	pool, err := slots.Open(slots.Options{
		Dir: filepath.Join(cfg.StateDir, "userpool"), StartID: cfg.StartID,
		IDsPerBuild: cfg.IDsPerBuild, Slots: cfg.Slots(),
	})
	if err != nil {
		return err
	}
	fmt.Printf("configuration ok: %d slots of %d ids from %d, state in %s\n", cfg.Slots(), cfg.IDsPerBuild, cfg.StartID, cfg.StateDir)
	for _, q := range pool.Quarantined() {
		fmt.Printf("slot %d quarantined: %s\n", q.Slot, q.Reason)
	}
	if !check {
		return fmt.Errorf("serving builds over %s is not available yet; use sdbuild run --local", cfg.Socket)
	}
	return nil
}
