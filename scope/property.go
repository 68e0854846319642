package scope

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/godbus/dbus/v5"

	"github.com/sdbuild/sdbuild/internal/timespan"
)

// Property is one scope property, typed the way systemd's D-Bus API wants it.
type Property struct {
	Name  string
	Value dbus.Variant
	// Controller is the cgroup2 controller that enforces the property, ""
	// when none does (RuntimeMaxSec): without it systemd accepts the
	// property and enforces nothing.
	Controller string
}

// infinity is systemd's "no limit" for byte, count and time properties.
const infinity = math.MaxUint64

// propertyParser turns the text after "NAME=" into a D-Bus property.
type propertyParser struct {
	dbusName   string                      // the property's name on the bus
	want       string                      // the accepted form, for errors
	parse      func(string) (uint64, bool) // false: malformed
	controller string                      // the cgroup2 controller that enforces it
	// value, when set, parses a property whose D-Bus value is not a
	// number (AllowedCPUs: a CPU mask), instead of parse.
	value func(string) (any, bool)
}

// by returns p enforced by controller c.
func (p propertyParser) by(c string) propertyParser {
	p.controller = c
	return p
}

var (
	bytesParser  = propertyParser{want: `bytes with an optional K, M, G, T, P or E suffix (powers of 1024), or "infinity"`, parse: parseBytes}
	countParser  = propertyParser{want: `a count, or "infinity"`, parse: parseCount}
	weightParser = propertyParser{want: "a weight from 1 to 10000", parse: parseWeight}
)

// properties are the ones a user may ask for with -p, like systemd-run -p.
var properties = map[string]propertyParser{
	"MemoryMax":     bytesParser.by("memory"),
	"MemoryHigh":    bytesParser.by("memory"),
	"MemoryLow":     bytesParser.by("memory"),
	"MemoryMin":     bytesParser.by("memory"),
	"MemorySwapMax": bytesParser.by("memory"),
	"TasksMax":      countParser.by("pids"),
	"CPUWeight":     weightParser.by("cpu"),
	"IOWeight":      weightParser.by("io"),
	"CPUQuota": {dbusName: "CPUQuotaPerSecUSec", want: `a percentage of one CPU greater than 0, like "50%" or "200%"`,
		parse: parseCPUQuota, controller: "cpu"},
	"AllowedCPUs": {want: `CPU numbers and ranges, like "0-3,6"`,
		value: func(s string) (any, bool) { return ParseCPUList(s) }, controller: "cpuset"},
	"RuntimeMaxSec": {dbusName: "RuntimeMaxUSec", want: `a time span like "90", "30s", "5min", "1h 30min", or "infinity"`,
		parse: timespan.ParseUsec},
}

// reserved properties are set by Start itself.
var reserved = []string{"CollectMode", "Delegate", "Description", "PIDFDs", "PIDs", "Slice"}

// ParseProperty parses one NAME=VALUE scope property, as given to
// `sdbuild -p`, into its D-Bus form: byte sizes, counts and weights become
// uint64 ('t'; systemd rejects a Go int's 'i'), CPUQuota=50% becomes
// CPUQuotaPerSecUSec, RuntimeMaxSec becomes RuntimeMaxUSec.
func ParseProperty(s string) (Property, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return Property{}, fmt.Errorf("parse property %q: %w: want NAME=VALUE", s, ErrInvalidProperty)
	}
	if slices.Contains(reserved, name) {
		return Property{}, fmt.Errorf("parse property %s: %w: sdbuild sets %s itself", s, ErrInvalidProperty, name)
	}
	p, ok := properties[name]
	if !ok {
		return Property{}, fmt.Errorf("parse property %s: %w %s; known: %s", s, ErrUnknownProperty, name,
			strings.Join(PropertyNames(), ", "))
	}
	var v any
	if p.value != nil {
		v, ok = p.value(strings.TrimSpace(value))
	} else {
		v, ok = p.parse(strings.TrimSpace(value))
	}
	if !ok {
		return Property{}, fmt.Errorf("parse property %s: %w: %s wants %s", s, ErrInvalidProperty, name, p.want)
	}
	dbusName := p.dbusName
	if dbusName == "" {
		dbusName = name
	}
	return Property{Name: dbusName, Value: dbus.MakeVariant(v), Controller: p.controller}, nil
}

// parseBytes parses "512", "1.5G", "infinity" (powers of 1024, as systemd).
func parseBytes(s string) (uint64, bool) {
	if s == "infinity" {
		return infinity, true
	}
	mult := 1.0
	if n := len(s); n > 0 {
		if i := strings.IndexByte("KMGTPE", s[n-1]); i >= 0 {
			mult = math.Pow(1024, float64(i+1))
			s = s[:n-1]
		}
	}
	f, ok := timespan.Decimal(s)
	if !ok || f*mult >= infinity {
		return 0, false
	}
	return uint64(f * mult), true
}

func parseCount(s string) (uint64, bool) {
	if s == "infinity" {
		return infinity, true
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n < infinity
}

func parseWeight(s string) (uint64, bool) {
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n >= 1 && n <= 10000
}

// parseCPUQuota turns a percentage of one CPU into µs of CPU time per second.
func parseCPUQuota(s string) (uint64, bool) {
	pct, ok := strings.CutSuffix(s, "%")
	if !ok {
		return 0, false
	}
	f, ok := timespan.Decimal(pct)
	if !ok || f <= 0 || f > 1e9 {
		return 0, false
	}
	return uint64(f * 10000), true // 1% of a second is 10,000 µs
}

// PropertyNames are the properties -p accepts, sorted, for completion.
func PropertyNames() []string {
	return slices.Sorted(maps.Keys(properties))
}

// maxCPU bounds the CPU numbers AllowedCPUs= takes (the kernel's
// CONFIG_NR_CPUS tops out at 8192).
const maxCPU = 8191

// ParseCPUList parses a CPU list ("0-3,6", also space-separated, as
// systemd reads AllowedCPUs=) into the mask systemd's D-Bus API wants:
// bit n%8 of byte n/8 for CPU n.
func ParseCPUList(s string) ([]byte, bool) {
	var mask []byte
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		lo, hi, isRange := strings.Cut(item, "-")
		first, err1 := strconv.Atoi(lo)
		last, err2 := first, error(nil)
		if isRange {
			last, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || first < 0 || last < first || last > maxCPU {
			return nil, false
		}
		for n := first; n <= last; n++ {
			for len(mask) <= n/8 {
				mask = append(mask, 0)
			}
			mask[n/8] |= 1 << (n % 8)
		}
	}
	return mask, len(mask) > 0
}
