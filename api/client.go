package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Client talks to sdbuildd over its Unix socket.
type Client struct {
	socket string
	// Hint is what an unreachable daemon's error tells the user to do.
	Hint string
	// OnVersion, when set, is called with the daemon's version
	// (HeaderVersion) from every response that has one.
	OnVersion func(daemon string)
}

// SystemHint and UserHint start the system's or a user's own daemon.
const (
	SystemHint = "is sdbuild.socket running? systemctl start sdbuild.socket"
	UserHint   = "is your sdbuild.socket running? systemctl --user start sdbuild.socket"
)

// NewClient returns a client for the daemon listening on socket.
func NewClient(socket string) *Client {
	return &Client{socket: socket, Hint: SystemHint}
}

// ErrNoDaemon wraps a failure to reach the daemon's socket.
var ErrNoDaemon = errors.New("sdbuild daemon not reachable")

func (c *Client) do(ctx context.Context, method, path string, in any) (*response, error) {
	req := &request{method: method, path: path}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		req.body = b
		req.header = []string{"Content-Type: application/json"}
	}
	resp, err := c.roundTrip(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.unreachable(err)
	}
	c.sawVersion(resp)
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		var e Error
		if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e); err != nil || e.Message == "" {
			return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
		}
		return nil, &e
	}
	return resp, nil
}

func (c *Client) getJSON(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.do(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

func buildPath(pattern, id string) string {
	return strings.Replace(pattern, "{id}", url.PathEscape(id), 1)
}

// Submit queues a build and returns it as recorded.
func (c *Client) Submit(ctx context.Context, r *SubmitRequest) (*Build, error) {
	var b Build
	return &b, c.getJSON(ctx, "POST", PathBuilds, r, &b)
}

// Get returns one build.
func (c *Client) Get(ctx context.Context, id string) (*Build, error) {
	var b Build
	return &b, c.getJSON(ctx, "GET", buildPath(PathBuild, id), nil, &b)
}

// Cancel cancels a queued or running build.
func (c *Client) Cancel(ctx context.Context, id string) (*Build, error) {
	var b Build
	return &b, c.getJSON(ctx, "POST", buildPath(PathCancel, id), nil, &b)
}

// ListOptions filter List.
type ListOptions struct {
	User   string // user name or uid; "" for what the caller may see
	Status []Status
	Name   string
	Limit  int
	Before string
}

// List returns builds, newest first.
func (c *Client) List(ctx context.Context, o ListOptions) ([]Build, error) {
	q := url.Values{}
	if o.User != "" {
		q.Set("user", o.User)
	}
	for _, s := range o.Status {
		q.Add("status", string(s))
	}
	if o.Name != "" {
		q.Set("name", o.Name)
	}
	if o.Limit != 0 {
		q.Set("limit", fmt.Sprint(o.Limit))
	}
	if o.Before != "" {
		q.Set("before", o.Before)
	}
	var bs []Build
	return bs, c.getJSON(ctx, "GET", PathBuilds+"?"+q.Encode(), nil, &bs)
}

// Status returns the daemon's status.
func (c *Client) Status(ctx context.Context) (*DaemonStatus, error) {
	var s DaemonStatus
	return &s, c.getJSON(ctx, "GET", PathStatus, nil, &s)
}

// Log returns a build's log; with follow it streams until the build ends.
func (c *Client) Log(ctx context.Context, id string, follow bool) (io.ReadCloser, error) {
	p := buildPath(PathLog, id)
	if follow {
		p += "?follow=true"
	}
	resp, err := c.do(ctx, "GET", p, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Events streams a build's events to fn until the build finishes (the
// last event is EventFinished) or ctx ends.
func (c *Client) Events(ctx context.Context, id string, fn func(*Event) error) error {
	resp, err := c.do(ctx, "GET", buildPath(PathEvents, id), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return readEvents(resp.Body, id, fn)
}

// SubmitFollow queues a build and streams its events to fn in one request:
// first EventSubmitted with the build as recorded, then what Events would
// send. It returns the build as recorded (nil if the daemon refused it).
// A daemon that answers the submission alone (one from before followed
// submissions) is followed with Events.
func (c *Client) SubmitFollow(ctx context.Context, r *SubmitRequest, fn func(*Event) error) (*Build, error) {
	resp, err := c.do(ctx, "POST", PathBuilds+"?follow=true", r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), ContentTypeEvents) {
		var b Build
		if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
			return nil, fmt.Errorf("POST %s: decode response: %w", PathBuilds, err)
		}
		if err := fn(&Event{Type: EventSubmitted, Build: &b}); err != nil {
			return &b, err
		}
		return &b, c.Events(ctx, b.ID, fn)
	}
	var b *Build
	err = readEvents(resp.Body, "", func(e *Event) error {
		if b == nil {
			if e.Type != EventSubmitted || e.Build == nil {
				return fmt.Errorf("events of a submission: first event is %q, not %q", e.Type, EventSubmitted)
			}
			b = e.Build
		}
		return fn(e)
	})
	return b, err
}

// readEvents decodes an NDJSON event stream of build id ("" before the
// daemon named it) to fn, until EventFinished.
func readEvents(body io.Reader, id string, fn func(*Event) error) error {
	name := func() string {
		if id == "" {
			return "the submitted build"
		}
		return "build " + id
	}
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 256<<10), 16<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("events of %s: %w", name(), err)
		}
		if e.Type == EventSubmitted && e.Build != nil {
			id = e.Build.ID
		}
		if err := fn(&e); err != nil {
			return err
		}
		if e.Type == EventFinished {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("events of %s: %w", name(), err)
	}
	return fmt.Errorf("events of %s: stream ended before the build finished: %w", name(), io.ErrUnexpectedEOF)
}

// unreachable is the error for a daemon that did not answer.
func (c *Client) unreachable(err error) error {
	return fmt.Errorf("%w at %s (%s): %w", ErrNoDaemon, c.socket, c.Hint, err)
}

func (c *Client) sawVersion(resp *response) {
	if v := resp.Header.Get(HeaderVersion); v != "" && c.OnVersion != nil {
		c.OnVersion(v)
	}
}
