package daemon

import (
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/internal/timespan"
	"github.com/sdbuild/sdbuild/scope"
)

// envCores tells a build how many CPUs it may keep busy, as NIX_BUILD_CORES
// does for Nix builds: make -j"$SDBUILD_BUILD_CORES".
const envCores = "SDBUILD_BUILD_CORES"

// applyLimits gives a request the daemon's limits: default-timeout and
// default-max-silent-time where it sets none, and refuses longer ones; the
// default-properties it does not set; max-properties as caps on what it
// sets and as values where it sets none; and SDBUILD_BUILD_CORES from its
// CPUQuota=. It never changes the slices sr had: the caller keeps the
// request as the client sent it.
func applyLimits(o *config.Operations, sr *api.SubmitRequest) error {
	timeout, silent := o.Limits()
	t, err := capSpan("timeout", "default-timeout", time.Duration(sr.Timeout), timeout)
	if err != nil {
		return err
	}
	s, err := capSpan("max-silent-time", "default-max-silent-time", time.Duration(sr.MaxSilentTime), silent)
	if err != nil {
		return err
	}
	sr.Timeout, sr.MaxSilentTime = api.Duration(t), api.Duration(s)
	if sr.Properties, err = capProperties(sr.Properties, o.DefaultProperties, o.MaxProperties); err != nil {
		return err
	}
	sr.Env = withCores(sr.Env, sr.Properties, runtime.NumCPU())
	return nil
}

// capSpan is a build's limit what under the daemon's setting key: the
// daemon's where the build sets none.
func capSpan(what, key string, asked, limit time.Duration) (time.Duration, error) {
	switch {
	case limit == 0:
		return asked, nil
	case asked == 0:
		return limit, nil
	case asked > limit:
		return 0, fmt.Errorf("%s %s: longer than this daemon allows (%s = %s); ask for %s or less",
			what, timespan.Format(asked), key, timespan.Format(limit), timespan.Format(limit))
	}
	return asked, nil
}

// capProperties returns asked with the defaults and caps applied.
func capProperties(asked, defaults, caps []string) ([]string, error) {
	out := slices.Clone(asked)
	set := map[string]bool{}
	for _, p := range asked {
		name, _, _ := strings.Cut(p, "=")
		set[name] = true
	}
	for _, p := range defaults {
		if name, _, _ := strings.Cut(p, "="); !set[name] {
			out = append(out, p)
			set[name] = true
		}
	}
	for _, c := range caps {
		name, _, _ := strings.Cut(c, "=")
		if !set[name] {
			out = append(out, c)
			continue
		}
		// Every value of the name counts, not just the last: systemd
		// applies the last, and none may be above the cap.
		for _, p := range out {
			if n, _, _ := strings.Cut(p, "="); n != name {
				continue
			}
			above, err := exceeds(p, c)
			if err != nil {
				return nil, err
			}
			if above {
				return nil, &aboveCapError{prop: p, limit: c}
			}
		}
	}
	return out, nil
}

// aboveCapError: a property's value is above the max-properties cap of
// its name. Its text is for the client that asked for it.
type aboveCapError struct{ prop, limit string }

func (e *aboveCapError) Error() string {
	return fmt.Sprintf("property %s: above what this daemon allows (max-properties %s); ask for less", e.prop, e.limit)
}

// preparedProperties are the scope properties of a build that sets none
// of its own: capProperties of nothing. A configuration for which that
// fails (a default above its cap, or capped by a value that is not a
// number) would refuse every such build, and is refused itself, in words
// for the administrator.
func preparedProperties(o *config.Operations) ([]string, error) {
	props, err := capProperties(nil, o.DefaultProperties, o.MaxProperties)
	var above *aboveCapError
	switch {
	case errors.As(err, &above):
		name, _, _ := strings.Cut(above.limit, "=")
		return nil, fmt.Errorf("%w: default-properties %s is above max-properties %s, so every build that sets no %s of its own would be refused: lower the default or raise the cap",
			config.ErrInvalidValue, above.prop, above.limit, name)
	case err != nil:
		return nil, fmt.Errorf("%w: default-properties: %w", config.ErrInvalidValue, err)
	}
	return props, nil
}

// exceeds reports whether property p's value is above cap's, both numeric
// scope properties of the same name ("infinity" is the largest).
func exceeds(p, limit string) (bool, error) {
	pp, err := scope.ParseProperty(p)
	if err != nil {
		return false, err
	}
	cp, err := scope.ParseProperty(limit)
	if err != nil {
		return false, fmt.Errorf("max-properties %s: %w", limit, err)
	}
	a, ok1 := pp.Value.Value().(uint64)
	b, ok2 := cp.Value.Value().(uint64)
	if !ok1 || !ok2 {
		return false, fmt.Errorf("max-properties %s: not a numeric property; remove it from max-properties", limit)
	}
	return a > b, nil
}

// withCores adds SDBUILD_BUILD_CORES to env, unless env sets it: the
// CPUs the last CPUQuota= in props allows, rounded up, else ncpu.
func withCores(env, props []string, ncpu int) []string {
	for _, e := range env {
		if strings.HasPrefix(e, envCores+"=") {
			return env
		}
	}
	cores := ncpu
	for _, p := range props {
		pp, err := scope.ParseProperty(p)
		if err != nil {
			continue
		}
		switch v := pp.Value.Value().(type) {
		case uint64: // CPUQuota=, as µs per second
			if strings.HasPrefix(p, "CPUQuota=") && v > 0 {
				cores = min(cores, int((v+999_999)/1_000_000))
			}
		case []byte: // AllowedCPUs=, a mask
			n := 0
			for _, b := range v {
				n += bits.OnesCount8(b)
			}
			if n > 0 {
				cores = min(cores, n)
			}
		}
	}
	return append(slices.Clone(env), envCores+"="+strconv.Itoa(max(cores, 1)))
}
