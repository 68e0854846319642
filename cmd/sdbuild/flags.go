package main

import (
	"time"

	"github.com/sdbuild/sdbuild/internal/timespan"
)

// timespanValue is a flag in systemd's time span syntax ("90", "5min",
// "1h 30s"), the one sdbuild reads everywhere, -p RuntimeMaxSec= too.
type timespanValue struct{ d *time.Duration }

func timespanFlag(d *time.Duration) *timespanValue { return &timespanValue{d} }

func (v *timespanValue) Set(s string) error {
	d, err := timespan.Parse(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

func (v *timespanValue) String() string {
	if v.d == nil || *v.d == 0 {
		return ""
	}
	return timespan.Format(*v.d)
}

func (v *timespanValue) Type() string { return "span" }
