package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A daemon that cannot be reached is named with the request, as
// http.Client named it.
func TestUnreachableError(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "missing.sock")
	_, err := NewClient(sock).Status(context.Background())
	want := `sdbuild daemon not reachable at ` + sock + ` (` + SystemHint + `): Get "http://sdbuild/v1/status": dial unix ` + sock + `: connect: no such file or directory`
	if err == nil || err.Error() != want {
		t.Errorf("Status() = %v, want %q", err, want)
	}
}

// The daemon refuses a body over MaxRequestBytes before reading it to the
// end: the client still reads that answer.
func TestRequestRefusedEarly(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathBuilds, func(w http.ResponseWriter, r *http.Request) {
		var req SubmitRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxRequestBytes)).Decode(&req); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(&Error{Code: CodeBadRequest, Message: "request too large"})
		}
	})
	big := &SubmitRequest{Args: []string{"/bin/true"}, Env: []string{"X=" + strings.Repeat("x", 4*MaxRequestBytes)}}
	_, err := serve(t, mux).Submit(context.Background(), big)
	var ae *Error
	if !errors.As(err, &ae) || ae.Code != CodeBadRequest {
		t.Fatalf("Submit of a %d-byte body = %v, want the daemon's bad-request error", 4*MaxRequestBytes, err)
	}
}

// A followed build's events are read as they come, and the stream ends
// with ctx, with ctx's error.
func TestFollowEndsWithContext(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathEvents, func(w http.ResponseWriter, r *http.Request) {
		writeEvents(w, http.StatusOK, &Event{Type: EventStarted, Build: &Build{ID: "0123456789ab"}})
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	c := serve(t, mux)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// The event is read while the stream goes on, and ends it.
	go func() { done <- c.Events(ctx, "0123456789ab", func(*Event) error { cancel(); return nil }) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Events() after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Events() did not end 10 s after its context did")
	}
}

// An accepted enter switches protocols: the connection, with what the
// daemon sent right after its answer, is the caller's.
func TestEnterSwitches(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathEnter, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + EnterProtocol + "\r\n\r\n")
		WriteFrame(brw, FrameData, []byte("hello"))
		brw.Flush()
		// Echo one frame, then exit.
		typ, p, err := ReadFrame(brw)
		if err != nil || typ != FrameData {
			t.Errorf("daemon: ReadFrame = %c, %q, %v", typ, p, err)
			return
		}
		WriteFrame(conn, FrameData, p)
		WriteFrame(conn, FrameExit, ExitPayload(3))
	})
	rwc, err := serve(t, mux).Enter(context.Background(), "0123456789ab", &EnterRequest{})
	if err != nil {
		t.Fatalf("Enter() = %v", err)
	}
	defer rwc.Close()
	br := bufio.NewReader(rwc)
	if typ, p, err := ReadFrame(br); err != nil || typ != FrameData || string(p) != "hello" {
		t.Fatalf("first frame = %c, %q, %v; want the daemon's hello", typ, p, err)
	}
	if err := WriteFrame(rwc, FrameData, []byte("echo")); err != nil {
		t.Fatal(err)
	}
	if typ, p, err := ReadFrame(br); err != nil || typ != FrameData || string(p) != "echo" {
		t.Fatalf("echoed frame = %c, %q, %v", typ, p, err)
	}
	if typ, p, err := ReadFrame(br); err != nil || typ != FrameExit {
		t.Fatalf("last frame = %c, %q, %v; want the exit", typ, p, err)
	}
}

// The request carries what http.Client sent: the daemon reads its
// method, path, query, type and body.
func TestRequestOnTheWire(t *testing.T) {
	var got []string
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, strings.Join([]string{r.Method, r.URL.String(), r.Host, r.UserAgent(),
			r.Header.Get("Content-Type"), strconv.FormatInt(r.ContentLength, 10), string(b)}, " | "))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"0123456789ab"}`)
	})
	c := serve(t, mux)
	ctx := context.Background()
	c.Submit(ctx, &SubmitRequest{Args: []string{"/bin/true"}})
	c.Cancel(ctx, "0123456789ab")
	c.List(ctx, ListOptions{Name: "a b", Status: []Status{StatusRunning}})
	want := []string{
		`POST | /v1/builds | sdbuild | Go-http-client/1.1 | application/json | 22 | {"args":["/bin/true"]}`,
		`POST | /v1/builds/0123456789ab/cancel | sdbuild | Go-http-client/1.1 |  | 0 | `,
		`GET | /v1/builds?name=a+b&status=running | sdbuild | Go-http-client/1.1 |  | 0 | `,
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Bodies framed by Content-Length, chunked, or by the connection's end,
// and headers as the daemon's server writes them.
func TestResponseFraming(t *testing.T) {
	for _, tt := range []struct {
		name, reply string
		body        string // "" with err
		err         string
	}{
		{name: "content length", reply: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", body: "hello"},
		{name: "cut short", reply: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello", err: "unexpected EOF"},
		{name: "chunked", reply: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nT: v\r\n\r\n", body: "hello!"},
		{name: "chunked cut short", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", err: "unexpected EOF"},
		{name: "chunk longer than its size", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n", err: "malformed chunked encoding"},
		{name: "chunk much longer than its size", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n" + strings.Repeat("x", 8192) + "\r\n0\r\n\r\n", err: "malformed chunked encoding"},
		{name: "chunk data cut before its CRLF", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r", err: "unexpected EOF"},
		{name: "bad chunk size", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", err: "invalid byte in chunk length"},
		{name: "signed length", reply: "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", err: "bad Content-Length"},
		{name: "other coding", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", err: "unsupported transfer encoding"},
		{name: "identity coding", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nok", err: "unsupported transfer encoding"},
		{name: "to the end", reply: "HTTP/1.1 200 OK\r\n\r\nhello", body: "hello"},
		{name: "no content", reply: "HTTP/1.1 204 No Content\r\n\r\n", body: ""},
		{name: "continue first", reply: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", body: "ok"},
		{name: "not HTTP", reply: "SSH-2.0-OpenSSH\r\n\r\n", err: "malformed HTTP response"},
		{name: "bad status", reply: "HTTP/1.1 2x0 OK\r\n\r\n", err: "malformed HTTP status code"},
		{name: "nothing", reply: "", err: `/v1/status": EOF`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sock := fakeDaemon(t, func(w io.Writer) { io.WriteString(w, tt.reply) })
			resp, err := NewClient(sock).do(context.Background(), "GET", PathStatus, nil)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("body %q, error %v; want an error saying %q", body, err, tt.err)
				}
				return
			}
			if err != nil || string(body) != tt.body {
				t.Fatalf("body %q, error %v; want %q", body, err, tt.body)
			}
		})
	}
}

// The daemon's ServeMux redirects a path it cleans, as a build id "." or
// ".." makes: the client follows, as http.Client did, and its errors say
// where the request ended.
func TestRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathBuilds, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "[]")
	})
	mux.HandleFunc("GET "+PathBuild, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"0123456789ab"}`)
	})
	mux.HandleFunc("GET /loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	c := serve(t, mux)
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		call func() error
		err  string
	}{
		{"GET of .", func() error { _, err := c.Get(ctx, "."); return err },
			"GET /v1/builds/.: decode response: json: cannot unmarshal array into Go value of type api.Build"},
		{"GET of ..", func() error { _, err := c.Get(ctx, ".."); return err }, "GET /v1/builds/..: 404 Not Found"},
		{"POST of .", func() error { _, err := c.Cancel(ctx, "."); return err }, "POST /v1/builds/./cancel: 405 Method Not Allowed"},
		{"a loop", func() error { _, err := c.do(ctx, "GET", "/loop", nil); return err }, `: Get "/loop": stopped after 10 redirects`},
	} {
		if err := tt.call(); err == nil || !strings.HasSuffix(err.Error(), tt.err) {
			t.Errorf("%s: %v, want an error ending %q", tt.name, err, tt.err)
		}
	}
}

// A peer on the socket that is not the daemon cannot make the client read
// an endless response head or endless interim answers: both end with an
// error, as with http.Transport, after a bounded read.
func TestResponseHeadBounded(t *testing.T) {
	for _, tt := range []struct {
		name  string
		write func(w io.Writer) error
		err   string
	}{
		{"endless header", func(w io.Writer) error {
			if _, err := io.WriteString(w, "HTTP/1.1 200 OK\r\nX-Long: "); err != nil {
				return err
			}
			line := []byte(strings.Repeat("a", 1<<20))
			for i := 0; i < 64; i++ {
				if _, err := w.Write(line); err != nil {
					return err
				}
			}
			return nil
		}, "headers exceeded"},
		{"endless interim answers", func(w io.Writer) error {
			// Until the client goes: the bound on what it read is then
			// what ends the test, not this writer.
			for {
				if _, err := io.WriteString(w, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
					return err
				}
			}
		}, "interim (1xx) responses"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var wrote atomic.Int64
			sock := fakeDaemon(t, func(w io.Writer) { tt.write(&countingWriter{w: w, n: &wrote}) })
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := NewClient(sock).do(ctx, "GET", PathStatus, nil)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v; want one saying %q", err, tt.err)
			}
			// The peer could write at most what the client read, and the
			// socket's buffers.
			if w := wrote.Load(); w > maxResponseHead+4<<20 {
				t.Errorf("the client read %d MiB before it gave up", w>>20)
			}
		})
	}
}

// fakeDaemon listens on a new Unix socket, which it returns, for one
// connection: it reads the request's head, then reply writes the answer.
// The test's end closes the socket.
func fakeDaemon(t *testing.T, reply func(w io.Writer)) string {
	t.Helper()
	l, sock := listen(t)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		tp := textproto.NewReader(bufio.NewReader(conn))
		tp.ReadLine()
		tp.ReadMIMEHeader()
		reply(conn)
	}()
	return sock
}

// countingWriter counts what w took.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}
