// Package timespan reads and writes time spans as systemd does ("90",
// "30s", "5min", "1h 30min", "infinity"), the one syntax for every
// duration sdbuild takes: --timeout, --max-silent-time, -p RuntimeMaxSec=
// and the API's durations. A bare number is seconds, as systemd and Nix
// read it.
package timespan

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Infinity is systemd's "no limit", in µs.
const Infinity = math.MaxUint64

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New(`not a time span: want a number of seconds or a span like "90s", "5min", "1h 30s"`)

// units are systemd's time span units, in µs.
var units = map[string]uint64{
	"us": 1, "usec": 1, "µs": 1,
	"ms": 1e3, "msec": 1e3,
	"s": 1e6, "sec": 1e6, "second": 1e6, "seconds": 1e6,
	"m": 60e6, "min": 60e6, "minute": 60e6, "minutes": 60e6,
	"h": 3600e6, "hr": 3600e6, "hour": 3600e6, "hours": 3600e6,
	"d": 86400e6, "day": 86400e6, "days": 86400e6,
	"w": 604800e6, "week": 604800e6, "weeks": 604800e6,
}

// ParseUsec parses a time span into µs; "infinity" is Infinity.
func ParseUsec(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	if s == "infinity" {
		return Infinity, true
	}
	if s == "" {
		return 0, false
	}
	var total float64
	for rest := s; rest != ""; {
		rest = strings.TrimLeft(rest, " ")
		i := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i == 0 {
			return 0, false
		}
		if i < 0 {
			i = len(rest)
		}
		num, ok := Decimal(rest[:i])
		if !ok {
			return 0, false
		}
		rest = strings.TrimLeft(rest[i:], " ")
		j := strings.IndexAny(rest, " 0123456789.")
		if j < 0 {
			j = len(rest)
		}
		unit := uint64(1e6)
		if j > 0 {
			u, ok := units[rest[:j]]
			if !ok {
				return 0, false
			}
			unit = u
		}
		rest = rest[j:]
		total += num * float64(unit)
	}
	if total >= Infinity {
		return 0, false
	}
	return uint64(total), true
}

// Parse parses a time span into a Duration; "infinity" and "0" are 0, no
// limit, as for systemd's RuntimeMaxSec.
func Parse(s string) (time.Duration, error) {
	us, ok := ParseUsec(s)
	if !ok {
		return 0, fmt.Errorf("%q: %w", s, ErrSyntax)
	}
	if us == Infinity {
		return 0, nil
	}
	if us > math.MaxInt64/1000 {
		return 0, fmt.Errorf("%q: longer than %s", s, Format(math.MaxInt64))
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Decimal parses digits with at most one decimal point, nothing else (no
// sign, exponent, hexadecimal, "NaN" or "Inf", which ParseFloat would
// take), as systemd reads the numbers of its time spans, sizes and
// percentages.
func Decimal(s string) (float64, bool) {
	digits := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits++
		} else if c != '.' {
			return 0, false
		}
	}
	if digits == 0 || strings.Count(s, ".") > 1 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// formatUnits are what Format writes, largest first.
var formatUnits = []struct {
	name string
	d    time.Duration
}{
	{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour},
	{"min", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}, {"us", time.Microsecond},
}

// Format writes d as systemd does, to the millisecond: "1h 30min",
// "1min 30s", "1.234s", "250ms", "0". Parse reads it back.
func Format(d time.Duration) string {
	if d < time.Millisecond {
		if d <= 0 {
			return "0"
		}
		return fmt.Sprintf("%dus", d/time.Microsecond)
	}
	d = d.Round(time.Millisecond)
	var parts []string
	for _, u := range formatUnits {
		if d < u.d {
			continue
		}
		n, rest := d/u.d, d%u.d
		// Seconds carry their milliseconds as a fraction ("1.234s").
		if u.d == time.Second && rest > 0 {
			frac := strings.TrimRight(fmt.Sprintf("%03d", rest/time.Millisecond), "0")
			parts = append(parts, fmt.Sprintf("%d.%ss", n, frac))
			break
		}
		parts = append(parts, fmt.Sprintf("%d%s", n, u.name))
		if d = rest; d == 0 {
			break
		}
	}
	return strings.Join(parts, " ")
}
