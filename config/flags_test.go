package config

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/spf13/pflag"
)

// Registering the daemon's settings as flags, which run and doctor do at
// every start of sdbuild, allocates little: pflag's StringSlice took
// 4 KiB for each list key.
func TestAddDaemonFlagsAllocates(t *testing.T) {
	var before, after runtime.MemStats
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	runtime.ReadMemStats(&before)
	AddDaemonFlags(fs)
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<10 {
		t.Errorf("AddDaemonFlags allocated %d bytes, want at most 16 KiB", n)
	}
}

// Help shows the daemon's settings as it did with pflag's StringSlice.
func TestAddDaemonFlagsHelp(t *testing.T) {
	got := pflag.NewFlagSet("ours", pflag.ContinueOnError)
	AddDaemonFlags(got)
	want := pflag.NewFlagSet("pflag", pflag.ContinueOnError)
	d := Defaults()
	for _, k := range keys {
		if p, ok := k.field(&d).(*[]string); ok {
			want.StringSlice(k.name, *p, fmt.Sprintf("%s (env %s), comma-separated", k.usage, envName(k.name)))
		}
	}
	want.VisitAll(func(w *pflag.Flag) {
		fs := pflag.NewFlagSet("one", pflag.ContinueOnError)
		fs.AddFlag(got.Lookup(w.Name))
		one := pflag.NewFlagSet("one", pflag.ContinueOnError)
		one.AddFlag(w)
		if g, w := fs.FlagUsages(), one.FlagUsages(); g != w {
			t.Errorf("help:\n%s\nwant pflag's:\n%s", g, w)
		}
	})
}
