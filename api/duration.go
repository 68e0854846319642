package api

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sdbuild/sdbuild/internal/timespan"
)

// Duration is a time span on the wire: a string in systemd's syntax
// ("90s", "5min", "1h 30s"), which reads the same in any language, never
// a count of Go's nanoseconds.
type Duration time.Duration

// MarshalJSON writes d as a time span string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(timespan.Format(time.Duration(d)))
}

// UnmarshalJSON reads a time span string. A number is refused rather than
// guessed at: clients before this type sent nanoseconds, and seconds
// would be read from the same digits.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration %s: want a string such as \"90s\" or \"5min\" (clients before sdbuild's string durations sent nanoseconds: update the client)", b)
	}
	v, err := timespan.Parse(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}
