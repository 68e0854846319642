package api

import (
	"context"
	"fmt"
	"io"
)

// Paths of the operations API.
const (
	PathGC      = "/v1/gc"                // POST GCRequest: collect what finished builds left (trusted-users)
	PathMetrics = "/v1/metrics"           // GET: Prometheus text format
	PathRerun   = "/v1/builds/{id}/rerun" // POST RerunRequest: run a build's stored request again
)

// GCRequest says what gc removes. With neither field set the daemon's
// keep-history, keep-logs and keep-build-dirs apply.
type GCRequest struct {
	// OlderThan removes finished builds' records, logs and kept
	// directories older than this age ("30d", "36h").
	OlderThan string `json:"older_than,omitempty"`
	// Keep keeps the newest Keep finished builds whatever their age.
	Keep int `json:"keep,omitempty"`
}

// GCReport is what a collection removed.
type GCReport struct {
	Builds    int   `json:"builds"`     // records removed from the history
	Logs      int   `json:"logs"`       // log files removed
	LogBytes  int64 `json:"log_bytes"`  // their size
	Dirs      int   `json:"dirs"`       // kept build directories removed
	Compacted bool  `json:"compacted"`  // the history file was rewritten
	FileBytes int64 `json:"file_bytes"` // the history file's size afterwards
}

// RerunRequest runs a finished build's stored request again.
type RerunRequest struct {
	// Output replaces the stored output directory, which exists by now;
	// "" discards the rerun's $out.
	Output string `json:"output,omitempty"`
	// OtherSlot runs the rerun on another slot than the build's, when one
	// is free (--check: other ids show what depends on them).
	OtherSlot bool `json:"other_slot,omitempty"`
}

// GC asks the daemon to collect now.
func (c *Client) GC(ctx context.Context, r *GCRequest) (*GCReport, error) {
	var rep GCReport
	return &rep, c.getJSON(ctx, "POST", PathGC, r, &rep)
}

// Rerun queues build id's request again, as the caller.
func (c *Client) Rerun(ctx context.Context, id string, r *RerunRequest) (*Build, error) {
	var b Build
	return &b, c.getJSON(ctx, "POST", buildPath(PathRerun, id), r, &b)
}

// Metrics returns the daemon's metrics in Prometheus text format.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	resp, err := c.do(ctx, "GET", PathMetrics, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", PathMetrics, err)
	}
	return string(b), nil
}
