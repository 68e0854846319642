package config

import (
	"bytes"
	"encoding/csv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// listValue is the flag of a list key (--allowed-users a,b): pflag's
// StringSlice, with its syntax (comma-separated, CSV-quoted, repeatable),
// its type name and its text. pflag's computes its text, the default that
// help shows, with an encoding/csv writer and its 4 KiB buffer when the
// flag is registered: for each list key, in each command that registers
// the keys (run and doctor), at every start of sdbuild. This one writes
// the text itself unless an item needs CSV's quotes.
type listValue struct {
	value   []string
	changed bool
}

func (v *listValue) Set(s string) error {
	l := []string{}
	if s != "" {
		var err error
		if l, err = csv.NewReader(strings.NewReader(s)).Read(); err != nil {
			return err
		}
	}
	if v.changed {
		l = append(v.value, l...)
	}
	v.value, v.changed = l, true
	return nil
}

func (v *listValue) Type() string { return "stringSlice" }

func (v *listValue) String() string {
	for _, s := range v.value {
		if needsQuotes(s) {
			var b bytes.Buffer
			w := csv.NewWriter(&b)
			w.Write(v.value)
			w.Flush()
			return "[" + strings.TrimSuffix(b.String(), "\n") + "]"
		}
	}
	return "[" + strings.Join(v.value, ",") + "]"
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

// Append, Replace and GetSlice make it a pflag.SliceValue.

func (v *listValue) Append(s string) error {
	v.value = append(v.value, s)
	return nil
}

func (v *listValue) Replace(l []string) error {
	v.value = l
	return nil
}

func (v *listValue) GetSlice() []string { return v.value }
