package man

import (
	"embed"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sdbuild/sdbuild/config"
)

// The hand-written pages, with placeholders (see fill) where they name a
// value the code decides.
//
//go:embed sdbuildd.8.in sdbuild.toml.5.in
var sources embed.FS

type page struct{ name, section string }

var handWritten = []page{{"sdbuildd", "8"}, {"sdbuild.toml", "5"}}

// Key is one configuration key as the pages describe it.
type Key struct {
	Name    string // state-dir
	Env     string // SDBUILD_STATE_DIR
	Default string // as written in sdbuild.toml: "/var/lib/sdbuild", 65536, ["*"]
}

// envInUsage finds the variable config.AddFlags names in each key's usage.
var envInUsage = regexp.MustCompile(`\(env (SDBUILD_[A-Z0-9_]+)\)`)

// byMachine are defaults that depend on the machine sdbuild runs on, with
// what the pages say instead of the generating machine's value. Each is
// checked against the code, so a change there stops the pages from being
// written until this text follows.
var byMachine = map[string]struct{ value, text string }{
	"max-jobs": {strconv.Itoa(runtime.NumCPU()), "the number of CPUs"},
}

// Keys lists the configuration keys from the flags config.AddFlags
// registers (one per key, plus --config), in the order config lists them.
func Keys() ([]Key, error) {
	fs := pflag.NewFlagSet("sdbuild.toml", pflag.ContinueOnError)
	fs.SortFlags = false
	config.AddFlags(fs)
	var keys []Key
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == "config" || err != nil {
			return
		}
		m := envInUsage.FindStringSubmatch(f.Usage)
		if m == nil {
			err = fmt.Errorf("config key %s: its flag's usage %q names no environment variable; say \"(env SDBUILD_…)\" there or teach doc/man another way", f.Name, f.Usage)
			return
		}
		k := Key{Name: f.Name, Env: m[1], Default: tomlValue(f)}
		if bm, ok := byMachine[f.Name]; ok {
			if f.DefValue != bm.value {
				err = fmt.Errorf("config key %s: default %s is no longer %s; update byMachine in doc/man", f.Name, f.DefValue, bm.text)
				return
			}
			k.Default = bm.text
		}
		keys = append(keys, k)
	})
	return keys, err
}

// tomlValue writes a flag's default as it would be written in the file.
func tomlValue(f *pflag.Flag) string {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		items := sv.GetSlice()
		for i, s := range items {
			items[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	if f.Value.Type() == "string" {
		return strconv.Quote(f.DefValue)
	}
	return f.DefValue
}

// placeholder is @NAME@ or @NAME:key@ in a page's source.
var placeholder = regexp.MustCompile(`@([A-Z_]+)(?::([a-z0-9-]+))?@`)

// render fills p's placeholders:
//
//	@DEFAULT:key@  the key's default, as written in the file
//	@ENV:key@      the key's environment variable
//	@CONFIG_FILE@  the system daemon's configuration file
//	@CONFIG_ENV@   the variable that names another file
//	@SLOTS@        how many builds the default id range holds at once
//	@VERSION@ @DATE@  from h, for the title line
//
// An unknown placeholder or key is an error, and so is a key of config
// that the page never mentions.
func (p page) render(h Header) ([]byte, error) {
	src, err := sources.ReadFile(p.name + "." + p.section + ".in")
	if err != nil {
		return nil, fmt.Errorf("man page %s(%s): %w", p.name, p.section, err)
	}
	keys, err := Keys()
	if err != nil {
		return nil, err
	}
	out, err := fill(src, h, keys, p.name == "sdbuild.toml")
	if err != nil {
		return nil, fmt.Errorf("man page %s(%s): %w (in doc/man/%s.%s.in)", p.name, p.section, err, p.name, p.section)
	}
	return out, nil
}

// fill replaces the placeholders of src; with everyKey, each of keys must
// have its default and its variable in src.
func fill(src []byte, h Header, keys []Key, everyKey bool) ([]byte, error) {
	d := config.Defaults()
	vals := map[string]string{
		"CONFIG_FILE": config.DefaultFile,
		"CONFIG_ENV":  "SDBUILD_CONFIG",
		"SLOTS":       strconv.Itoa(d.Slots()),
		"VERSION":     h.Version,
		"DATE":        h.Date.UTC().Format("2006-01-02"),
	}
	for _, k := range keys {
		vals["DEFAULT:"+k.Name] = k.Default
		vals["ENV:"+k.Name] = k.Env
	}
	var unknown []string
	used := map[string]bool{}
	out := placeholder.ReplaceAllStringFunc(string(src), func(m string) string {
		name := strings.Trim(m, "@")
		v, ok := vals[name]
		if !ok {
			unknown = append(unknown, m)
			return m
		}
		used[name] = true
		return roffEscape(v)
	})
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown placeholders %s", strings.Join(unknown, " "))
	}
	if everyKey {
		var missing []string
		for _, k := range keys {
			if !used["DEFAULT:"+k.Name] || !used["ENV:"+k.Name] {
				missing = append(missing, k.Name)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("keys %s lack @DEFAULT:key@ or @ENV:key@: describe them", strings.Join(missing, ", "))
		}
	}
	return []byte(out), nil
}

// roffEscape makes s print as itself: a backslash is roff's escape, and a
// minus sign must be \- to stay one (for copy and paste) rather than a
// hyphen.
func roffEscape(s string) string {
	return strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
}
