package daemon

import (
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/config"
)

func TestApplyLimits(t *testing.T) {
	o := &config.Operations{
		Timeout: "4h", MaxSilentTime: "20m",
		DefaultProperties: []string{"TasksMax=4096", "MemoryHigh=8G"},
		MaxProperties:     []string{"MemoryMax=16G", "CPUQuota=400%"},
	}
	for _, tt := range []struct {
		name    string
		in      api.SubmitRequest
		timeout time.Duration
		props   []string
		err     string
	}{
		{name: "defaults", in: api.SubmitRequest{},
			timeout: 4 * time.Hour, props: []string{"TasksMax=4096", "MemoryHigh=8G", "MemoryMax=16G", "CPUQuota=400%"}},
		{name: "own values within the caps", in: api.SubmitRequest{Timeout: api.Duration(time.Hour), Properties: []string{"TasksMax=100", "MemoryMax=2G", "CPUQuota=150%"}},
			timeout: time.Hour, props: []string{"TasksMax=100", "MemoryMax=2G", "CPUQuota=150%", "MemoryHigh=8G"}},
		{name: "longer timeout", in: api.SubmitRequest{Timeout: api.Duration(5 * time.Hour)}, err: "timeout 5h: longer than this daemon allows (default-timeout = 4h); ask for 4h or less"},
		{name: "above a cap", in: api.SubmitRequest{Properties: []string{"MemoryMax=32G"}}, err: "property MemoryMax=32G: above what this daemon allows (max-properties MemoryMax=16G)"},
		{name: "infinity above a cap", in: api.SubmitRequest{Properties: []string{"MemoryMax=infinity"}}, err: "above what this daemon allows"},
		{name: "an earlier value above a cap", in: api.SubmitRequest{Properties: []string{"MemoryMax=32G", "MemoryMax=1G"}}, err: "MemoryMax=32G"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sr := tt.in
			orig := slices.Clone(sr.Properties)
			err := applyLimits(o, &sr)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("applyLimits(%+v) = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if time.Duration(sr.Timeout) != tt.timeout || time.Duration(sr.MaxSilentTime) != 20*time.Minute || !slices.Equal(sr.Properties, tt.props) {
				t.Errorf("applyLimits(%+v) = timeout %v, silent %v, properties %q; want %v, 20m, %q", tt.in, sr.Timeout, sr.MaxSilentTime, sr.Properties, tt.timeout, tt.props)
			}
			if !slices.Equal(tt.in.Properties, orig) {
				t.Errorf("applyLimits changed the caller's properties: %q", tt.in.Properties)
			}
		})
	}
	// No settings: the request is unchanged but for the cores.
	sr := api.SubmitRequest{Timeout: api.Duration(time.Minute), Properties: []string{"MemoryMax=1G"}}
	if err := applyLimits(&config.Operations{}, &sr); err != nil || time.Duration(sr.Timeout) != time.Minute || len(sr.Properties) != 1 {
		t.Errorf("applyLimits(no settings) = %+v, %v", sr, err)
	}
}

func TestWithCores(t *testing.T) {
	for _, tt := range []struct {
		env, props []string
		want       string
	}{
		{nil, nil, "SDBUILD_BUILD_CORES=8"},
		{nil, []string{"CPUQuota=200%"}, "SDBUILD_BUILD_CORES=2"},
		{nil, []string{"CPUQuota=150%"}, "SDBUILD_BUILD_CORES=2"},
		{nil, []string{"CPUQuota=50%"}, "SDBUILD_BUILD_CORES=1"},
		{nil, []string{"CPUQuota=1600%"}, "SDBUILD_BUILD_CORES=8"},
		{[]string{"SDBUILD_BUILD_CORES=3"}, []string{"CPUQuota=200%"}, "SDBUILD_BUILD_CORES=3"},
		{nil, []string{"AllowedCPUs=0-2,5"}, "SDBUILD_BUILD_CORES=4"},
		{nil, []string{"AllowedCPUs=0-5", "CPUQuota=300%"}, "SDBUILD_BUILD_CORES=3"},
		{nil, []string{"CPUQuota=600%", "AllowedCPUs=1 3"}, "SDBUILD_BUILD_CORES=2"},
	} {
		got := withCores(tt.env, tt.props, 8)
		if !slices.Contains(got, tt.want) || len(got) != max(len(tt.env), 1) {
			t.Errorf("withCores(%q, %q, 8) = %q, want %s", tt.env, tt.props, got, tt.want)
		}
	}
}

// TestDefaultsAboveCapsRefused: a default above its cap (or under a cap
// that is not a number) would refuse every build that sets none of its
// own; the daemon refuses to start with it, naming both and the fix.
func TestDefaultsAboveCapsRefused(t *testing.T) {
	for _, tc := range []struct {
		defaults, caps []string
		want           string // "" for none
	}{
		{[]string{"MemoryMax=32G"}, []string{"MemoryMax=16G"}, "default-properties MemoryMax=32G is above max-properties MemoryMax=16G"},
		{[]string{"CPUWeight=50"}, []string{"CPUWeight=idle"}, "max-properties CPUWeight=idle"},
		{[]string{"MemoryMax=8G", "TasksMax=100"}, []string{"MemoryMax=16G"}, ""},
		{[]string{"MemoryMax=8G"}, nil, ""},
	} {
		cfg := config.Defaults()
		cfg.StateDir = t.TempDir()
		cfg.StartID, cfg.IDCount, cfg.IDsPerBuild = 0xE4000000, 65536, 65536
		cfg.Ops.DefaultProperties, cfg.Ops.MaxProperties = tc.defaults, tc.caps
		d, err := New(Options{Config: &cfg, Scopes: noScopes{}, Runner: newFakeRunner(1), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("defaults %q, caps %q: New = %v, want it to start", tc.defaults, tc.caps, err)
		case tc.want != "" && (err == nil || !errors.Is(err, config.ErrInvalidValue) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("defaults %q, caps %q: New = %v, want a configuration error naming %q", tc.defaults, tc.caps, err, tc.want)
		}
		if err == nil {
			d.Close()
		}
	}
}
