package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// decodeFile decodes a TOML file and checks its keys the way TOML defines
// them: sdbuild matches keys folded to lower case (flatten), so
// "state-dir" and "STATE-DIR" in one file would both be accepted and the
// later would silently win. TOML keys are case-sensitive: a duplicate
// key, two keys that differ only in case, and a key that matches a known
// one only when folded are errors naming both.
func decodeFile(data []byte) (map[string]any, error) {
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	return doc, checkTable("", doc, keyNames())
}

// checkTable checks one table's keys; prefix is its dotted path.
func checkTable(prefix string, t map[string]any, known []string) error {
	var errs []error
	byFolded := map[string][]string{}
	for _, k := range slices.Sorted(maps.Keys(t)) {
		f := strings.ToLower(k)
		byFolded[f] = append(byFolded[f], k)
		if sub, ok := t[k].(map[string]any); ok {
			if err := checkTable(prefix+k+".", sub, nil); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, f := range slices.Sorted(maps.Keys(byFolded)) {
		ks := byFolded[f]
		if len(ks) > 1 {
			errs = append(errs, fmt.Errorf("keys %s differ only in case: TOML keys are case-sensitive, keep one", quoteAll(prefix, ks)))
			continue
		}
		if k := ks[0]; prefix == "" && !slices.Contains(known, k) {
			if i := slices.IndexFunc(known, func(kn string) bool { return strings.EqualFold(kn, k) }); i >= 0 {
				errs = append(errs, fmt.Errorf("key %q differs from %q only in case: TOML keys are case-sensitive, write %q", k, known[i], known[i]))
			}
		}
	}
	return errors.Join(errs...)
}

// quoteAll writes keys as "a" and "b" (with prefix, their table's path).
func quoteAll(prefix string, keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = fmt.Sprintf("%q", prefix+k)
	}
	if len(q) == 2 {
		return q[0] + " and " + q[1]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
