package config

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/spf13/pflag"
)

// A list key's flag reads, shows and names its value as pflag's
// StringSlice does.
func TestListValueIsStringSlice(t *testing.T) {
	for _, tt := range []struct {
		def  []string
		sets []string
	}{
		{def: []string{}},
		{def: []string{"*"}, sets: []string{"alice,@wheel", "bob"}},
		{def: []string{"/usr", "/bin", "/lib"}, sets: []string{""}},
		{def: []string{"a,b", `q"uote`, " lead", "\\.", "", "tab\tin", "é"}, sets: []string{`"x,y",z`, `"a""b"`}},
		{def: []string{"x"}, sets: []string{`"unterminated`}},
		{def: []string{"\u00a0nbsp", "new\nline"}},
	} {
		var ours []string
		want := pflag.NewFlagSet("pflag", pflag.ContinueOnError)
		want.StringSliceVar(&ours, "l", tt.def, "")
		got := pflag.NewFlagSet("ours", pflag.ContinueOnError)
		got.Var(&listValue{value: tt.def}, "l", "")
		check := func(step string) {
			t.Helper()
			w, g := want.Lookup("l"), got.Lookup("l")
			if g.DefValue != w.DefValue || g.Value.String() != w.Value.String() || g.Value.Type() != w.Value.Type() ||
				!slices.Equal(g.Value.(pflag.SliceValue).GetSlice(), w.Value.(pflag.SliceValue).GetSlice()) {
				t.Errorf("%q %s: %q %q %s %q, want pflag's %q %q %s %q", tt.def, step,
					g.DefValue, g.Value, g.Value.Type(), g.Value.(pflag.SliceValue).GetSlice(),
					w.DefValue, w.Value, w.Value.Type(), w.Value.(pflag.SliceValue).GetSlice())
			}
		}
		check("registered")
		for _, s := range tt.sets {
			werr, gerr := want.Set("l", s), got.Set("l", s)
			if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
				t.Errorf("%q: Set(%q) = %v, want pflag's %v", tt.def, s, gerr, werr)
			}
			check("after Set(" + s + ")")
		}
	}
}

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
