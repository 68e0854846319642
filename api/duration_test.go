package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Durations travel as time span strings, never Go nanoseconds.
func TestSubmitRequestDurations(t *testing.T) {
	r := SubmitRequest{Args: []string{"true"}, Timeout: Duration(90 * time.Second), MaxSilentTime: Duration(1500 * time.Millisecond)}
	b, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"timeout":"1min 30s","max_silent_time":"1.5s"`; !strings.Contains(string(b), want) {
		t.Errorf("Marshal = %s, want it to contain %s", b, want)
	}
	if b, _ := json.Marshal(&SubmitRequest{Args: []string{"true"}}); strings.Contains(string(b), "timeout") {
		t.Errorf("Marshal without a timeout = %s, want none", b)
	}
	for _, tt := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{`{"timeout":"5min"}`, 5 * time.Minute, ""},
		{`{"timeout":"90"}`, 90 * time.Second, ""},
		{`{"timeout":"1h 30s"}`, time.Hour + 30*time.Second, ""},
		{`{"timeout":90000000000}`, 0, "update the client"},
		{`{"timeout":"soon"}`, 0, "not a time span"},
	} {
		var got SubmitRequest
		err := json.Unmarshal([]byte(tt.in), &got)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Unmarshal(%s) = %v, want an error containing %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || time.Duration(got.Timeout) != tt.want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", tt.in, time.Duration(got.Timeout), err, tt.want)
		}
	}
}
