package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// request is one HTTP/1.1 request to the daemon.
type request struct {
	method string // "GET", "POST"
	path   string // with its query, escaped
	header []string
	body   []byte // nil: none
}

// response is the daemon's answer: its status line, its header, and a
// Body that reads the rest and closes the connection.
type response struct {
	Status     string // "404 Not Found"
	StatusCode int
	Header     textproto.MIMEHeader
	Body       io.ReadCloser
}

// statusSwitchingProtocols answers an accepted enter request.
const statusSwitchingProtocols = 101

// roundTrip sends req over a new connection to the daemon's socket and
// reads the response's head; its Body reads the rest and closes the
// connection. A client makes one request or a few per process, so a
// connection pool buys nothing; and every start of sdbuild paid for what
// net/http links (TLS, x509, HTTP/2, and their package initialisation),
// and a Transport's goroutines woke threads for every event of a followed
// build. What the daemon answers is Go's net/http server's HTTP/1.1: a
// body of Content-Length bytes, chunked, or up to the connection's end;
// redirects are followed as http.Client followed them (redirect).
//
// Errors read as http.Client's did: a failure to connect, send or read
// the head is a *url.Error naming the method and URL; once ctx is done,
// the body's reads fail with ctx's error. A 101 Switching Protocols
// response's Body is the connection itself, an io.ReadWriteCloser, and
// ctx no longer ends it.
func (c *Client) roundTrip(ctx context.Context, req *request) (*response, error) {
	op := req.method[:1] + strings.ToLower(req.method[1:])
	first, body := req, req.body
	for sent := 1; ; sent++ {
		resp, err := c.roundTripOnce(ctx, op, req)
		if err != nil {
			return nil, err
		}
		method, keepBody, ok := redirect(req.method, resp.StatusCode)
		loc := resp.Header.Get("Location")
		if !ok || loc == "" {
			return resp, nil
		}
		resp.Body.Close()
		last, err := url.Parse("http://sdbuild" + req.path)
		if err != nil {
			return nil, &url.Error{Op: op, URL: "http://sdbuild" + req.path, Err: err}
		}
		u, err := last.Parse(loc)
		if err != nil {
			return nil, &url.Error{Op: op, URL: last.String(), Err: fmt.Errorf("failed to parse Location header %q: %v", loc, err)}
		}
		if sent == 10 {
			return nil, &url.Error{Op: op, URL: loc, Err: errors.New("stopped after 10 redirects")}
		}
		if !keepBody {
			body = nil // once dropped, never sent again
		}
		req = &request{method: method, path: u.RequestURI(), body: body}
		for _, h := range first.header {
			if body == nil && strings.HasPrefix(h, "Content-Type:") {
				continue
			}
			req.header = append(req.header, h)
		}
		req.header = append(req.header, "Referer: "+last.String())
	}
}

// redirect says whether and how a request follows a response of status
// code, as http.Client followed it: the daemon's ServeMux redirects a
// path it cleans, as that of a build id "." or "..". 301, 302 and 303
// turn any method but GET into GET without the body; 307 and 308 send the
// request again. Location may name any host: there is one socket.
func redirect(method string, code int) (next string, keepBody, ok bool) {
	switch code {
	case 301, 302, 303:
		if method != "GET" && method != "HEAD" {
			method = "GET"
		}
		return method, false, true
	case 307, 308:
		return method, true, true
	}
	return "", false, false
}

// roundTripOnce is one request and its response; op names the first
// request's method in errors.
func (c *Client) roundTripOnce(ctx context.Context, op string, req *request) (*response, error) {
	urlErr := func(err error) error {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return &url.Error{Op: op, URL: "http://sdbuild" + req.path, Err: err}
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
	go func() {
		_, err := conn.Write(req.bytes())
		wrote <- err
	}()
	// The head is read through a limit, as http.Transport read it: a
	// peer on the socket that is not the daemon must not make the client
	// hold an endless header in memory.
	head := &io.LimitedReader{R: conn, N: maxResponseHead}
	br := bufio.NewReader(head)
	resp, err := readResponse(br)
	// An interim answer (100 Continue) comes before the real one; a few
	// at most.
	for interim := 0; err == nil && resp.StatusCode < 200 && resp.StatusCode != statusSwitchingProtocols; interim++ {
		if interim == maxInterim {
			err = fmt.Errorf("%w: more than %d interim (1xx) responses", errMalformed, maxInterim)
			break
		}
		resp, err = readResponse(br)
	}
	if err != nil && head.N <= 0 {
		err = errHeadTooLarge
	}
	head.N = math.MaxInt64 // the body is read without the limit
	if err != nil {
		stop()
		conn.Close()
		// A failed write (the daemon went away) is the cause.
		if werr := <-wrote; werr != nil {
			err = werr
		}
		return nil, urlErr(err)
	}
	if resp.StatusCode == statusSwitchingProtocols {
		// The connection is the caller's now: no write of ours may
		// interleave with its frames. The daemon has read the request
		// before it switched, and ctx still ends the wait.
		err := <-wrote
		if !stop() {
			err = ctx.Err() // ctx ended: the connection is closed
		}
		if err != nil {
			conn.Close()
			return nil, urlErr(err)
		}
		resp.Body = &switched{Reader: br, Conn: conn}
		return resp, nil
	}
	resp.Body = &connBody{body: bodyReader(br, resp), conn: conn, ctx: ctx, stop: stop}
	return resp, nil
}

// bytes is the request as it goes on the wire; its header lines are those
// Go's http.Client sent.
func (r *request) bytes() []byte {
	b := make([]byte, 0, 256+len(r.body))
	b = fmt.Appendf(b, "%s %s HTTP/1.1\r\nHost: sdbuild\r\nUser-Agent: Go-http-client/1.1\r\n", r.method, r.path)
	if r.body != nil || r.method == "POST" {
		b = fmt.Appendf(b, "Content-Length: %d\r\n", len(r.body))
	}
	for _, h := range r.header {
		b = append(b, h...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, r.body...)
}

// maxResponseHead bounds the bytes read before a response's head is
// complete, and maxInterim the 1xx answers before it: those of Go's
// http.Transport (MaxResponseHeaderBytes' default; its 1xx limit).
const (
	maxResponseHead = 10 << 20
	maxInterim      = 5
)

// errHeadTooLarge: the response's head did not end within
// maxResponseHead bytes.
var errHeadTooLarge = fmt.Errorf("server response headers exceeded %d bytes; aborted", maxResponseHead)

// errMalformed is a response that is not HTTP/1.x.
var errMalformed = errors.New("malformed HTTP response")

// readResponse reads a response's status line and header.
func readResponse(br *bufio.Reader) (*response, error) {
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		// io.EOF: the daemon closed the connection without a word,
		// which http.Transport reported as EOF too.
		return nil, err
	}
	proto, status, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/1.") {
		return nil, fmt.Errorf("%w %q", errMalformed, line)
	}
	code, _, _ := strings.Cut(status, " ")
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 || n < 100 {
		return nil, fmt.Errorf("malformed HTTP status code %q", code)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return &response{Status: strings.TrimLeft(status, " "), StatusCode: n, Header: h}, nil
}

// bodyReader reads resp's body from br, framed as RFC 9112 section 6.3
// says.
func bodyReader(br *bufio.Reader, resp *response) io.Reader {
	switch {
	case resp.StatusCode == 204, resp.StatusCode == 304:
		return strings.NewReader("")
	case resp.Header.Get("Transfer-Encoding") != "":
		// The daemon's server sends chunked alone; net/http's client
		// refuses any other coding too.
		if te := resp.Header.Values("Transfer-Encoding"); len(te) != 1 || !strings.EqualFold(strings.TrimSpace(te[0]), "chunked") {
			return &errReader{fmt.Errorf("unsupported transfer encoding: %q", strings.Join(te, ", "))}
		}
		return &chunked{r: br}
	case resp.Header.Get("Content-Length") != "":
		cl := strings.TrimSpace(resp.Header.Get("Content-Length"))
		n, err := strconv.ParseInt(cl, 10, 64)
		// Digits alone: ParseInt would take a sign.
		if err != nil || strings.TrimLeft(cl, "0123456789") != "" {
			return &errReader{fmt.Errorf("bad Content-Length %q", resp.Header.Get("Content-Length"))}
		}
		return &exactly{r: br, n: n}
	}
	return br
}

// exactly reads n bytes; a stream that ends first is cut short.
type exactly struct {
	r io.Reader
	n int64
}

func (e *exactly) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.n {
		p = p[:e.n]
	}
	n, err := e.r.Read(p)
	e.n -= int64(n)
	if err == io.EOF && e.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

// connBody is a response's body on a connection of its own.
type connBody struct {
	body io.Reader
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
