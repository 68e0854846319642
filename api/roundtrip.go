package api

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// roundTrip sends req over a new connection to the daemon's socket and
// reads the response's head; the response's Body reads the rest and
// closes the connection. A client makes one request or a few per process,
// so an http.Transport's connection pool buys nothing, and it costs: its
// read and write goroutines wake threads for every event of a followed
// build, and linking it links TLS and HTTP/2, whose size and package
// initialisation every start of sdbuild paid for.
//
// Errors read as http.Client's: a failure to connect, send or read the
// head is a *url.Error naming the method and URL; once ctx is done, the
// body's reads fail with ctx's error. A 101 Switching Protocols response's
// Body is the connection itself, an io.ReadWriteCloser, as http.Transport
// hands it over, and ctx no longer ends it.
func (c *Client) roundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	urlErr := func(err error) error {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return &url.Error{Op: req.Method[:1] + strings.ToLower(req.Method[1:]), URL: req.URL.String(), Err: err}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.socket)
	if err != nil {
		return nil, urlErr(err)
	}
	// Every wait on the daemon below ends when ctx does.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	// The request is written while the response is read, as
	// http.Transport does: the daemon answers a body over
	// MaxRequestBytes before reading it to the end. Buffered, so the
	// writer never waits for a reader that has gone.
	wrote := make(chan error, 1)
	go func() { wrote <- req.Write(conn) }()
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		stop()
		conn.Close()
		// A failed write (the daemon went away) is the cause.
		if werr := <-wrote; werr != nil {
			err = werr
		}
		return nil, urlErr(err)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		stop()
		// The connection is the caller's now: no write of ours may
		// interleave with its frames.
		if err := <-wrote; err != nil {
			conn.Close()
			return nil, urlErr(err)
		}
		resp.Body = &switched{Reader: br, Conn: conn}
		return resp, nil
	}
	resp.Body = &connBody{body: resp.Body, conn: conn, ctx: ctx, stop: stop}
	return resp, nil
}

// connBody is a response's body on a connection of its own.
type connBody struct {
	body io.ReadCloser
	conn net.Conn
	ctx  context.Context
	stop func() bool
	once sync.Once
}

func (b *connBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err != nil && err != io.EOF && b.ctx.Err() != nil {
		err = b.ctx.Err()
	}
	return n, err
}

func (b *connBody) Close() error {
	b.once.Do(func() {
		b.stop()
		b.conn.Close()
	})
	return nil
}

// switched is the connection after a 101 response: what the response's
// reader has buffered is read first.
type switched struct {
	*bufio.Reader
	net.Conn
}

func (s *switched) Read(p []byte) (int, error) { return s.Reader.Read(p) }
