package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// checkKeys reads a TOML file the way TOML defines it, before viper does:
// viper folds every key to lower case, so "state-dir" and "STATE-DIR" in
// one file would both be accepted and the later would silently win. TOML
// keys are case-sensitive: a duplicate key, two keys that differ only in
// case, and a key that matches a known one only when folded are errors
// naming both.
func checkKeys(data []byte) error {
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return err
	}
	return checkTable("", doc, keyNames())
}

// checkTable checks one table's keys; prefix is its dotted path.
func checkTable(prefix string, t map[string]any, known []string) error {
	var errs []error
	byFolded := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(t)) {
		name := prefix + k
		f := strings.ToLower(k)
		if other, ok := byFolded[f]; ok {
			errs = append(errs, fmt.Errorf("keys %q and %q differ only in case: TOML keys are case-sensitive, keep one", prefix+other, name))
		} else {
			byFolded[f] = k
			if prefix == "" && !slices.Contains(known, k) {
				for _, kn := range known {
					if strings.EqualFold(kn, k) {
						errs = append(errs, fmt.Errorf("key %q differs from %q only in case: TOML keys are case-sensitive, write %q", name, kn, kn))
					}
				}
			}
		}
		if sub, ok := t[k].(map[string]any); ok {
			if err := checkTable(name+".", sub, nil); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
