package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
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

	if err := checkKeys(data); err != nil {
		return nil, nil, errorf(ErrInvalidKey, "config: parse %s%s: %w", what, errorLine(err), err)
	}
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, nil, fmt.Errorf("config: parse %s%s: %w", what, errorLine(err), tomlCause(err))
	}

	names := keyNames()
	vals = map[string]value{}
	allKeys := v.AllKeys()
	slices.Sort(allKeys)
	for _, name := range allKeys {
		if !slices.Contains(names, name) {
			errs = append(errs, errorf(ErrUnknownKey, "config %s: unknown key %q%s",
				path, name, suggest(name, names)))
			continue
		}
		vals[name] = value{raw: v.Get(name), from: path}
	}
	return vals, errs, nil
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

// tomlCause drops viper's "While parsing config:" wrapper, which adds
// nothing to our own prefix.
func tomlCause(err error) error {
	var pe viper.ConfigParseError
	if errors.As(err, &pe) && pe.Unwrap() != nil {
		return pe.Unwrap()
	}
	return err
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
