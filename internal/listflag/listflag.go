// Package listflag provides pflag's StringSlice and StringArray flags
// without their cost at registration: pflag's compute their text, the
// default that help shows, with an encoding/csv writer and its 4 KiB
// buffer as each flag is registered, and sdbuild registers every
// command's flags at every start. These write the text themselves unless
// an item needs CSV's quotes, and otherwise read, show and name their
// values as pflag's do.
package listflag

import (
	"bytes"
	"encoding/csv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/pflag"
)

// Slice is pflag's StringSlice: comma-separated, CSV-quoted items, the
// flag repeatable.
type Slice struct{ list }

// Array is pflag's StringArray: one item per flag, the flag repeatable.
type Array struct{ list }

type list struct {
	value   *[]string
	changed bool
}

// NewSlice and NewArray return flags holding p, whose value is the
// default.
func NewSlice(p *[]string) *Slice { return &Slice{list{value: p}} }
func NewArray(p *[]string) *Array { return &Array{list{value: p}} }

// Var registers v on fs. Help shows no default for an empty list, as for
// pflag's own list flags, whose zero value is "[]"; for any other Value
// only "" is, so an empty list's DefValue is "" (doc/man shows "[]").
func Var(fs *pflag.FlagSet, v pflag.Value, name, shorthand, usage string) {
	fs.VarP(v, name, shorthand, usage)
	if f := fs.Lookup(name); f.DefValue == "[]" {
		f.DefValue = ""
	}
}

func (s *Slice) Set(v string) error {
	l := []string{}
	if v != "" {
		var err error
		if l, err = csv.NewReader(strings.NewReader(v)).Read(); err != nil {
			return err
		}
	}
	if s.changed {
		l = append(*s.value, l...)
	}
	*s.value, s.changed = l, true
	return nil
}

func (s *Slice) Type() string { return "stringSlice" }

func (a *Array) Set(v string) error {
	if a.changed {
		*a.value = append(*a.value, v)
	} else {
		*a.value, a.changed = []string{v}, true
	}
	return nil
}

func (a *Array) Type() string { return "stringArray" }

// Replace and GetSlice copy, as pflag's StringArray does.

func (a *Array) Replace(v []string) error {
	*a.value = append([]string(nil), v...)
	return nil
}

func (a *Array) GetSlice() []string { return append([]string(nil), *a.value...) }

// String is "[a,b]", as pflag writes it.
func (l *list) String() string {
	for _, s := range *l.value {
		if needsQuotes(s) {
			var b bytes.Buffer
			w := csv.NewWriter(&b)
			w.Write(*l.value)
			w.Flush()
			return "[" + strings.TrimSuffix(b.String(), "\n") + "]"
		}
	}
	return "[" + strings.Join(*l.value, ",") + "]"
}

// needsQuotes is encoding/csv's rule for a field it writes quoted.
func needsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` || strings.ContainsAny(s, ",\"\r\n") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// Append, Replace and GetSlice make the flags pflag.SliceValues.

func (l *list) Append(s string) error {
	*l.value = append(*l.value, s)
	return nil
}

func (l *list) Replace(v []string) error {
	*l.value = v
	return nil
}

func (l *list) GetSlice() []string { return *l.value }
