package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// listen opens a Unix socket for a test's daemon; the test's end closes
// it.
func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, sock
}

// serve answers the client's requests on a Unix socket with mux.
func serve(t *testing.T, mux *http.ServeMux) *Client {
	t.Helper()
	l, sock := listen(t)
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return NewClient(sock)
}

func writeEvents(w http.ResponseWriter, status int, es ...*Event) {
	w.Header().Set("Content-Type", ContentTypeEvents)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	for _, e := range es {
		enc.Encode(e)
	}
}

// types lists the events fn saw.
func collect(types *[]EventType) func(*Event) error {
	return func(e *Event) error { *types = append(*types, e.Type); return nil }
}

// A followed submission is one request; a daemon from before them answers
// the submission alone, and the client follows it with Events.
func TestSubmitFollow(t *testing.T) {
	b := &Build{ID: "0123456789ab", Outcome: Outcome{Status: StatusQueued}}
	done := &Build{ID: b.ID, Outcome: Outcome{Status: StatusSucceeded}}
	want := []EventType{EventSubmitted, EventStarted, EventLog, EventFinished}
	for _, old := range []bool{false, true} {
		var mu sync.Mutex
		var requests []string
		note := func(r *http.Request) {
			mu.Lock()
			requests = append(requests, r.Method+" "+r.URL.String())
			mu.Unlock()
		}
		mux := http.NewServeMux()
		mux.HandleFunc("POST "+PathBuilds, func(w http.ResponseWriter, r *http.Request) {
			note(r)
			if old {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				json.NewEncoder(w).Encode(b)
				return
			}
			writeEvents(w, http.StatusCreated, &Event{Type: EventSubmitted, Build: b}, &Event{Type: EventStarted, Build: b},
				&Event{Type: EventLog, Data: []byte("hi\n")}, &Event{Type: EventFinished, Build: done})
		})
		mux.HandleFunc("GET "+PathEvents, func(w http.ResponseWriter, r *http.Request) {
			note(r)
			writeEvents(w, http.StatusOK, &Event{Type: EventStarted, Build: b}, &Event{Type: EventLog, Data: []byte("hi\n")}, &Event{Type: EventFinished, Build: done})
		})
		var got []EventType
		sb, err := serve(t, mux).SubmitFollow(context.Background(), &SubmitRequest{Args: []string{"/bin/true"}}, collect(&got))
		if err != nil || sb == nil || sb.ID != b.ID {
			t.Fatalf("old daemon %v: SubmitFollow = %+v, %v", old, sb, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("old daemon %v: events %v, want %v", old, got, want)
		}
		wantReq := []string{"POST /v1/builds?follow=true"}
		if old {
			wantReq = append(wantReq, "GET /v1/builds/"+b.ID+"/events")
		}
		mu.Lock()
		if !slices.Equal(requests, wantReq) {
			t.Errorf("old daemon %v: requests %q, want %q", old, requests, wantReq)
		}
		mu.Unlock()
	}
}

// A followed submission's stream that does not begin by naming the build,
// or ends before the build did, is an error that says so; a refusal
// returns no build.
func TestSubmitFollowBadStreams(t *testing.T) {
	b := &Build{ID: "0123456789ab", Outcome: Outcome{Status: StatusQueued}}
	for _, tc := range []struct {
		name  string
		reply func(w http.ResponseWriter)
		build bool // SubmitFollow returns the build
		err   string
	}{
		{"no submitted event", func(w http.ResponseWriter) {
			writeEvents(w, http.StatusCreated, &Event{Type: EventStarted, Build: b})
		}, false, `first event is "started", not "submitted"`},
		{"cut short", func(w http.ResponseWriter) {
			writeEvents(w, http.StatusCreated, &Event{Type: EventSubmitted, Build: b}, &Event{Type: EventStarted, Build: b})
		}, true, "events of build 0123456789ab: stream ended before the build finished"},
		{"refused", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(&Error{Code: CodeBadRequest, Message: "args: empty"})
		}, false, "args: empty"},
	} {
		mux := http.NewServeMux()
		mux.HandleFunc("POST "+PathBuilds, func(w http.ResponseWriter, r *http.Request) { tc.reply(w) })
		var got []EventType
		sb, err := serve(t, mux).SubmitFollow(context.Background(), &SubmitRequest{Args: []string{"/bin/true"}}, collect(&got))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.err)
		}
		if (sb != nil) != tc.build {
			t.Errorf("%s: build %+v, want one: %v", tc.name, sb, tc.build)
		}
	}
}
