package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sdbuild/sdbuild/api"
)

// fakeDaemon answers the CLI's requests from a fixed set of builds, as
// sdbuildd would, and records what it was asked. The real daemon's
// handlers have their own tests (daemon/); these test the CLI.
type fakeDaemon struct {
	version string // HeaderVersion it answers with

	mu     sync.Mutex
	builds []api.Build        // newest first, as List answers
	logs   map[string]string  // by id
	submit *api.SubmitRequest // the last one
	enter  *api.EnterRequest  // the last one
	refuse *api.Error         // answer submits with this, 400
	final  *api.Build         // a submitted build's final record
}

// serve starts d on a socket that SDBUILD_SOCKET names for the test.
func (d *fakeDaemon) serve(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "sdbuild.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+api.PathStatus, func(w http.ResponseWriter, r *http.Request) {
		d.reply(w, 200, &api.DaemonStatus{Version: d.version, PID: 42, Slots: 128, SlotsFree: 128, MaxJobs: 2})
	})
	mux.HandleFunc("GET "+api.PathBuilds, func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		defer d.mu.Unlock()
		out := []api.Build{}
		for _, b := range d.builds {
			if st := r.URL.Query()["status"]; len(st) == 0 || contains(st, string(b.Status)) {
				out = append(out, b)
			}
		}
		d.reply(w, 200, out)
	})
	mux.HandleFunc("GET "+api.PathBuild, func(w http.ResponseWriter, r *http.Request) {
		if b := d.find(r.PathValue("id")); b != nil {
			d.reply(w, 200, b)
			return
		}
		d.reply(w, 404, &api.Error{Code: api.CodeNotFound, Message: "build " + r.PathValue("id") + ": no such build"})
	})
	mux.HandleFunc("GET "+api.PathLog, func(w http.ResponseWriter, r *http.Request) {
		b := d.find(r.PathValue("id"))
		if b == nil {
			d.reply(w, 404, &api.Error{Code: api.CodeNotFound, Message: "no such build"})
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		w.Write([]byte(d.logs[b.ID]))
	})
	mux.HandleFunc("POST "+api.PathCancel, func(w http.ResponseWriter, r *http.Request) {
		b := d.find(r.PathValue("id"))
		if b == nil {
			d.reply(w, 404, &api.Error{Code: api.CodeNotFound, Message: "build " + r.PathValue("id") + ": no such build"})
			return
		}
		c := *b
		c.Status = api.StatusCancelled
		d.reply(w, 200, &c)
	})
	mux.HandleFunc("POST "+api.PathBuilds, func(w http.ResponseWriter, r *http.Request) {
		var sr api.SubmitRequest
		if err := json.NewDecoder(r.Body).Decode(&sr); err != nil {
			d.reply(w, 400, &api.Error{Code: api.CodeBadRequest, Message: err.Error()})
			return
		}
		d.mu.Lock()
		d.submit = &sr
		d.mu.Unlock()
		if d.refuse != nil {
			d.reply(w, 400, d.refuse)
			return
		}
		d.reply(w, 201, &api.Build{ID: d.final.ID, Args: sr.Args, Outcome: api.Outcome{Status: api.StatusQueued}})
	})
	mux.HandleFunc("GET "+api.PathEvents, func(w http.ResponseWriter, r *http.Request) {
		enc := json.NewEncoder(w)
		enc.Encode(&api.Event{Type: api.EventStarted, Build: d.final})
		enc.Encode(&api.Event{Type: api.EventLog, Data: []byte("build output\n")})
		enc.Encode(&api.Event{Type: api.EventFinished, Build: d.final})
	})
	mux.HandleFunc("POST "+api.PathEnter, func(w http.ResponseWriter, r *http.Request) {
		var er api.EnterRequest
		json.NewDecoder(r.Body).Decode(&er)
		d.mu.Lock()
		d.enter = &er
		d.mu.Unlock()
		d.reply(w, 403, &api.Error{Code: api.CodeForbidden, Message: "refused by the fake daemon"})
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	t.Setenv("SDBUILD_SOCKET", sock)
	return sock
}

// find resolves an id or a unique prefix, as the daemon does.
func (d *fakeDaemon) find(id string) *api.Build {
	d.mu.Lock()
	defer d.mu.Unlock()
	var found *api.Build
	for i := range d.builds {
		if strings.HasPrefix(d.builds[i].ID, id) {
			if found != nil {
				return nil
			}
			found = &d.builds[i]
		}
	}
	return found
}

func (d *fakeDaemon) reply(w http.ResponseWriter, status int, v any) {
	if d.version != "" {
		w.Header().Set(api.HeaderVersion, d.version)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// cli runs sdbuild with args in this process and returns what it printed
// and its exit status. Tests using it must not run in parallel: it swaps
// os.Stdout and os.Stderr.
func cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	stdout, stderr = captureStdio(t, func() { code = runMain(args) })
	return stdout, stderr, code
}

// captureStdio runs f with os.Stdout and os.Stderr going to files and
// returns what it wrote to each. Tests using it must not run in parallel.
func captureStdio(t *testing.T, f func()) (stdout, stderr string) {
	t.Helper()
	dir := t.TempDir()
	outF, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	errF, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outF, errF
	defer func() { os.Stdout, os.Stderr = oldOut, oldErr }()
	f()
	outF.Close()
	errF.Close()
	o, _ := os.ReadFile(outF.Name())
	e, _ := os.ReadFile(errF.Name())
	return string(o), string(e)
}

// noConfig points the configuration at an empty file and clears the
// environment sdbuild reads, so no test reads the host's.
func noConfig(t *testing.T) {
	t.Helper()
	useConfig(t, "")
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "SDBUILD_") && name != "SDBUILD_CONFIG" {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

// useConfig makes content the configuration file.
func useConfig(t *testing.T, content string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sdbuild.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SDBUILD_CONFIG", path)
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
