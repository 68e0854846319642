package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// value is one raw setting before conversion.
type value struct {
	// raw is a string (environment, flag), a []string (list flag) or
	// whatever the TOML decoder produced (string, int64, float64, bool,
	// []any, map[string]any, ...).
	raw any
	// from says where raw came from, for messages: the file path,
	// the environment variable or the flag.
	from string
}

// assign converts v to the type of k's field in c and stores it. Only the
// type is checked here; Validate checks the rules, once all sources merged.
func assign(c *Config, k key, v value) error {
	var rule string
	switch p := k.field(c).(type) {
	case *string:
		if s, ok := v.raw.(string); ok {
			*p = s
		} else {
			rule = "not a string"
		}
	case *uint32:
		if n, ok := toUint32(v.raw); ok {
			*p = n
		} else {
			rule = "not an unsigned 32-bit integer"
		}
	case *int:
		if n, ok := toInt(v.raw); ok {
			*p = n
		} else {
			rule = "not an integer"
		}
	case *[]string:
		if l, ok := toList(v.raw); ok {
			*p = l
		} else {
			rule = "not a list of strings"
		}
	default:
		panic(fmt.Sprintf("config key %s: unsupported field type %T", k.name, p))
	}
	if rule != "" {
		return errorf(ErrInvalidValue, "config: %s = %s (from %s): %s",
			k.name, formatValue(v.raw), v.from, rule)
	}
	return nil
}

// toUint32 accepts decimal strings and integers in [0, 2^32-1]. A negative
// number is refused, never wrapped: -1 must not become 4294967295.
func toUint32(raw any) (uint32, bool) {
	switch x := raw.(type) {
	case string:
		n, err := strconv.ParseUint(x, 10, 32)
		return uint32(n), err == nil
	case int64:
		if x < 0 || x > math.MaxUint32 {
			return 0, false
		}
		return uint32(x), true
	case int:
		return toUint32(int64(x))
	}
	return 0, false
}

// toInt accepts decimal strings and integers that fit an int.
func toInt(raw any) (int, bool) {
	switch x := raw.(type) {
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	case int64:
		if int64(int(x)) != x {
			return 0, false
		}
		return int(x), true
	case int:
		return x, true
	}
	return 0, false
}

// toList accepts a list of strings, or a string of comma-separated items
// (the only way to write a list in the environment).
func toList(raw any) ([]string, bool) {
	switch x := raw.(type) {
	case string:
		return splitList(x), true
	case []string:
		return append([]string{}, x...), true
	case []any:
		l := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			l = append(l, s)
		}
		return l, true
	}
	return nil, false
}

// splitList splits "a, b,c" into [a b c]. Empty items are dropped so that an
// empty string is an empty list.
func splitList(s string) []string {
	l := []string{}
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			l = append(l, item)
		}
	}
	return l
}

// formatValue writes raw roughly as TOML would, so strings are quoted and
// numbers are not.
func formatValue(raw any) string {
	switch x := raw.(type) {
	case string:
		return strconv.Quote(x)
	case []string:
		return formatList(x)
	case []any:
		l := make([]string, len(x))
		for i, e := range x {
			l[i] = formatValue(e)
		}
		return "[" + strings.Join(l, ", ") + "]"
	}
	return fmt.Sprint(raw)
}

// formatList writes a list of strings as a TOML array.
func formatList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
