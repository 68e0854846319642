package listflag

import (
	"runtime"
	"slices"
	"testing"

	"github.com/spf13/pflag"
)

// Each flag reads, shows and names its value as pflag's does, and help
// shows it the same way.
func TestAsPflag(t *testing.T) {
	for _, tt := range []struct {
		def  []string
		sets []string
	}{
		{},
		{def: []string{}},
		{def: []string{"*"}, sets: []string{"alice,@wheel", "bob"}},
		{def: []string{"/usr", "/bin", "/lib"}, sets: []string{""}},
		{def: []string{"a,b", `q"uote`, " lead", "\\.", "", "tab\tin", "é"}, sets: []string{`"x,y",z`, `"a""b"`}},
		{def: []string{"x"}, sets: []string{`"unterminated`}},
		{def: []string{"\u00a0nbsp", "new\nline"}},
		// Each of CSV's reasons to quote, alone in its list: one item
		// that needs quotes writes the whole list through encoding/csv.
		{def: []string{"plain", " lead"}},
		{def: []string{"plain", "\u00a0nbsp"}},
		{def: []string{"plain", `\.`}},
		{def: []string{"plain", "cr\r"}},
		{def: []string{"plain", "lf\n"}},
		{def: []string{"plain", `q"`}},
		{def: []string{"plain", ","}},
	} {
		for _, kind := range []string{"slice", "array"} {
			want := pflag.NewFlagSet("pflag", pflag.ContinueOnError)
			got := pflag.NewFlagSet("ours", pflag.ContinueOnError)
			var w, g []string
			if kind == "slice" {
				want.StringSliceVarP(&w, "l", "l", slices.Clone(tt.def), "a `LIST`")
				g = slices.Clone(tt.def)
				Var(got, NewSlice(&g), "l", "l", "a `LIST`")
			} else {
				want.StringArrayVarP(&w, "l", "l", slices.Clone(tt.def), "a `LIST`")
				g = slices.Clone(tt.def)
				Var(got, NewArray(&g), "l", "l", "a `LIST`")
			}
			check := func(step string) {
				t.Helper()
				wf, gf := want.Lookup("l"), got.Lookup("l")
				if gf.Value.String() != wf.Value.String() || gf.Value.Type() != wf.Value.Type() ||
					!slices.Equal(gf.Value.(pflag.SliceValue).GetSlice(), wf.Value.(pflag.SliceValue).GetSlice()) ||
					!slices.Equal(g, w) || got.FlagUsages() != want.FlagUsages() {
					t.Errorf("%s %q %s: %q %s %q %q\n%s\nwant pflag's %q %s %q %q\n%s", kind, tt.def, step,
						gf.Value, gf.Value.Type(), gf.Value.(pflag.SliceValue).GetSlice(), g, got.FlagUsages(),
						wf.Value, wf.Value.Type(), wf.Value.(pflag.SliceValue).GetSlice(), w, want.FlagUsages())
				}
			}
			check("registered")
			for _, s := range tt.sets {
				werr, gerr := want.Set("l", s), got.Set("l", s)
				if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
					t.Errorf("%s %q: Set(%q) = %v, want pflag's %v", kind, tt.def, s, gerr, werr)
				}
				check("after Set(" + s + ")")
			}
			wf, gf := want.Lookup("l"), got.Lookup("l")
			wf.Value.(pflag.SliceValue).Replace([]string{"r"})
			gf.Value.(pflag.SliceValue).Replace([]string{"r"})
			check("after Replace")
		}
	}
}

// Registering a flag allocates little: pflag's took a 4 KiB buffer.
func TestVarAllocates(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	var l []string
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		Var(fs, NewArray(&l), name, "", "")
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<10 {
		t.Errorf("registering 8 list flags allocated %d bytes, want at most 8 KiB", n)
	}
}
