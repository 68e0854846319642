package daemon

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/buildlog"
	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/scope"
)

// Only trusted users may enter, and the refusal names the rule; it comes
// before anything about the build, so it reveals nothing about it.
func TestEnterForbidden(t *testing.T) {
	d := &Daemon{cfg: &config.Config{TrustedUsers: []string{"root", "@wheel"}}}
	for _, p := range []*peer{{name: "nobody", uid: 65534, allowed: true}, nil} {
		req := httptest.NewRequest(http.MethodPost, "/v1/builds/0123456789ab/enter", strings.NewReader(`{"args":["/bin/true"]}`))
		if p != nil {
			req = req.WithContext(context.WithValue(req.Context(), ctxKey{}, p))
		}
		w := httptest.NewRecorder()
		d.Handler().ServeHTTP(w, req)
		var e api.Error
		json.NewDecoder(w.Body).Decode(&e)
		name := "unknown"
		if p != nil {
			name = p.name
		}
		want := "user " + name + " may not enter builds: only root and trusted-users may (trusted-users = root @wheel): forbidden"
		if w.Code != http.StatusForbidden || e.Code != api.CodeForbidden || e.Message != want {
			t.Errorf("enter as %s: %d %+v, want 403 %q", name, w.Code, e, want)
		}
	}
}

func TestEnterNeedsUpgrade(t *testing.T) {
	d := &Daemon{cfg: &config.Config{TrustedUsers: []string{"root"}}}
	req := httptest.NewRequest(http.MethodPost, "/v1/builds/0123456789ab/enter", strings.NewReader(`{}`))
	req = req.WithContext(context.WithValue(req.Context(), ctxKey{}, &peer{name: "root", trusted: true}))
	w := httptest.NewRecorder()
	d.Handler().ServeHTTP(w, req)
	var e api.Error
	json.NewDecoder(w.Body).Decode(&e)
	if w.Code != http.StatusBadRequest || !strings.Contains(e.Message, "Upgrade: "+api.EnterProtocol) {
		t.Errorf("enter without Upgrade: %d %+v, want 400 naming the header", w.Code, e)
	}
}

// elsewhereScopes stands in for a systemd that puts a scope somewhere its
// name does not say.
type elsewhereScopes struct{ noScopes }

func (elsewhereScopes) Start(_ context.Context, s scope.Spec) (*scope.Scope, error) {
	return &scope.Scope{Name: s.Name, Cgroup: "/elsewhere.slice/" + s.Name}, nil
}

// A session is made in the cgroup the build was placed in, as systemd
// named it, not in one rebuilt from the unit's name.
func TestEnterTargetIsWherePlaced(t *testing.T) {
	const id = "0123456789ab"
	lg, err := buildlog.Create(t.TempDir(), id, "")
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	d := &Daemon{scopes: elsewhereScopes{}, jobs: map[string]*job{id: {
		id: id, log: lg, changed: make(chan struct{}),
		b: &api.Build{ID: id, Slot: 0, Outcome: api.Outcome{Status: api.StatusRunning}},
	}}}
	if _, err := d.place(context.Background(), id, 4242, &build.Request{}); err != nil {
		t.Fatal(err)
	}
	init, cgroup, err := d.runningInit(id)
	if want := "/elsewhere.slice/" + UnitName(id); init != 4242 || cgroup != want || err != nil {
		t.Errorf("runningInit(%s) = %d, %q, %v; want 4242, %q", id, init, cgroup, err, want)
	}
}
