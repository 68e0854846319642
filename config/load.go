package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// Source says where configuration comes from.
type Source struct {
	// File is an explicit config file; "" means a changed --config in
	// Flags, else $SDBUILD_CONFIG, else DefaultFile.
	File string
	// Environ is the environment as from os.Environ(); nil means none.
	// It is passed in rather than read so tests need not touch the
	// process environment.
	Environ []string
	// Flags may be nil; only Changed flags whose names are keys apply.
	Flags *pflag.FlagSet
	// User, when set, loads the configuration of User's own daemon
	// (sdbuild without root): defaults under the XDG base directories of
	// Environ, User alone allowed, and build ids carved from User's
	// subordinate ids in /etc/subuid and /etc/subgid.
	User *Account
}

// defaultFile is DefaultFile; tests point it at a temporary directory.
var defaultFile = DefaultFile

// Load merges flags over environment over file over defaults, then validates
// the result (types and arithmetic; not the host's users, see CheckHostIDs).
// All problems found are reported together.
func Load(src Source) (*Config, error) {
	env := sdbuildEnv(src.Environ)
	errs := unknownEnv(env)

	c := Defaults()
	defFile := defaultFile
	if src.User != nil {
		var err error
		if defFile, err = c.userDefaults(src.User, src.Environ); err != nil {
			return nil, err
		}
	}
	path, from, named := configFile(src, env, defFile)
	file, fileErrs, err := readFile(path, from, named)
	if err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	errs = append(errs, fileErrs...)

	set := map[string]bool{}
	for _, k := range keys {
		v, ok := flagValue(src.Flags, k.name)
		if !ok {
			v, ok = envValue(env, k.name)
		}
		if !ok {
			v, ok = file[k.name]
		}
		if !ok {
			continue
		}
		set[k.name] = true
		if err := assign(&c, k, v); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if c.Rootless != nil {
		if err := c.settleUserIDs(set); err != nil {
			return nil, err
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// sdbuildEnv returns the SDBUILD_* variables of environ. When a name repeats,
// the first wins, as with os.Getenv.
func sdbuildEnv(environ []string) map[string]string {
	env := map[string]string{}
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) {
			continue
		}
		if _, seen := env[name]; !seen {
			env[name] = val
		}
	}
	return env
}

// unknownEnv reports SDBUILD_* variables that match no key: a misspelt
// variable would otherwise be ignored without a word.
func unknownEnv(env map[string]string) []error {
	known := []string{envConfig}
	for _, k := range keys {
		known = append(known, envName(k.name))
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(env)) {
		if !slices.Contains(known, name) && !slices.Contains(setByBuilds, name) {
			errs = append(errs, errorf(ErrUnknownKey, "config: unknown environment variable %q%s",
				name, suggest(name, known)))
		}
	}
	return errs
}

// configFile picks the file to read. named is false only for the default,
// which may be missing.
func configFile(src Source, env map[string]string, defFile string) (path, from string, named bool) {
	if src.File != "" {
		return src.File, "", true
	}
	if src.Flags != nil {
		if f := src.Flags.Lookup(flagConfig); f != nil && f.Changed {
			return f.Value.String(), "--" + flagConfig, true
		}
	}
	// An empty SDBUILD_CONFIG counts as unset, so a unit file can clear it.
	if p := env[envConfig]; p != "" {
		return p, envConfig, true
	}
	return defFile, "", false
}

// readFile decodes the TOML file at path into values by key. Unknown keys
// are returned in errs; err is set when the file cannot be used at all.
func readFile(path, from string, named bool) (vals map[string]value, errs []error, err error) {
	what := path
	if from != "" {
		what = fmt.Sprintf("%s (from %s)", path, from)
	}
	data, err := readConfig(path)
	if err != nil {
		if !named && errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil
		}
		// The PathError's text would repeat the path.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, fmt.Errorf("config: read %s: %w", what, err)
	}

	doc, err := decodeFile(data)
	if err != nil {
		return nil, nil, errorf(ErrInvalidKey, "config: parse %s%s: %w", what, errorLine(err), err)
	}

	names := keyNames()
	vals = map[string]value{}
	flat := map[string]any{}
	flatten(flat, "", doc)
	for _, name := range slices.Sorted(maps.Keys(flat)) {
		if !slices.Contains(names, name) {
			errs = append(errs, errorf(ErrUnknownKey, "config %s: unknown key %q%s",
				path, name, suggest(name, names)))
			continue
		}
		vals[name] = value{raw: flat[name], from: path}
	}
	return vals, errs, nil
}

// flatten puts t's values into flat by dotted path ("runner.x"), tables
// into their values: an empty table names nothing. Names are folded to
// lower case, in tables inside lists too, so an unknown key is reported
// the way sdbuild has always named it; the known ones are all lower case,
// and decodeFile has refused a key that differs from one only in case.
func flatten(flat map[string]any, prefix string, t map[string]any) {
	for k, v := range t {
		name := prefix + strings.ToLower(k)
		if sub, ok := v.(map[string]any); ok {
			flatten(flat, name+".", sub)
			continue
		}
		flat[name] = foldKeys(v)
	}
}

// foldKeys returns v with the keys of the tables in it folded to lower
// case (a list of inline tables, which no key takes, as its error shows it).
func foldKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[strings.ToLower(k)] = foldKeys(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = foldKeys(e)
		}
	}
	return v
}

// errorLine returns " line N" when the TOML decoder reported a position.
// go-toml's DecodeError has a Position method.
func errorLine(err error) string {
	var pos interface{ Position() (row, column int) }
	if errors.As(err, &pos) {
		row, _ := pos.Position()
		return fmt.Sprintf(" line %d", row)
	}
	return ""
}

// flagValue returns the flag named like the key, if it was set on the
// command line. A flag left at its default must not hide the environment or
// the file.
func flagValue(fs *pflag.FlagSet, name string) (value, bool) {
	if fs == nil {
		return value{}, false
	}
	f := fs.Lookup(name)
	if f == nil || !f.Changed {
		return value{}, false
	}
	v := value{raw: f.Value.String(), from: "--" + name}
	// A slice flag's String() is "[a,b]"; take its items instead.
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		v.raw = sv.GetSlice()
	}
	return v, true
}

// envValue returns the key's SDBUILD_ variable, if set (even to "").
func envValue(env map[string]string, name string) (value, bool) {
	n := envName(name)
	s, ok := env[n]
	return value{raw: s, from: n}, ok
}
