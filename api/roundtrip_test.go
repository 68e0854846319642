package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
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

// A followed build's stream ends with ctx, with ctx's error.
func TestFollowEndsWithContext(t *testing.T) {
	started := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathEvents, func(w http.ResponseWriter, r *http.Request) {
		writeEvents(w, http.StatusOK, &Event{Type: EventStarted, Build: &Build{ID: "0123456789ab"}})
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done()
	})
	c := serve(t, mux)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	done := make(chan error, 1)
	go func() { done <- c.Events(ctx, "0123456789ab", func(*Event) error { return nil }) }()
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
