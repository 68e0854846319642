package sandbox

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPrepared: a sandbox prepared ahead of demand runs its build the same
// as one started for it: the inputs given with the request are there and
// read-only (locked), the build dirs belong to the slot's first id, and
// the builder's output and $out come through.
func TestPrepared(t *testing.T) {
	s := newSpec(t, `echo hello > $out/greeting; stat -c %u /build; touch /usr/x 2>/dev/null || echo ro`)
	if err := PrepareDir(s.Dir); err != nil {
		t.Fatal(err)
	}
	base := &Spec{BuildID: s.BuildID, Dir: s.Dir}
	p, err := SpawnPrepared(base)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&log, p.Log); close(copied) }()
	if err := p.Ready(); err != nil {
		t.Fatalf("Ready (prepared): %v", err)
	}
	if err := p.Go(); err == nil {
		// init refuses to run a builder it was given no request for.
		if _, err := p.Wait(); !errors.Is(err, ErrSetup) {
			t.Errorf("Go before Fill: Wait = %v, want ErrSetup", err)
		}
		<-copied
	} else {
		t.Fatal(err)
	}

	// A second prepared sandbox, filled this time.
	if err := os.RemoveAll(s.Dir); err != nil {
		t.Fatal(err)
	}
	if err := PrepareDir(s.Dir); err != nil {
		t.Fatal(err)
	}
	p, err = SpawnPrepared(base)
	if err != nil {
		t.Fatal(err)
	}
	log.Reset()
	copied = make(chan struct{})
	go func() { io.Copy(&log, p.Log); close(copied) }()
	if err := p.Ready(); err != nil {
		t.Fatalf("Ready (prepared): %v", err)
	}
	wrong := *s
	wrong.BuildID = "other"
	if err := p.Fill(&wrong); !errors.Is(err, ErrInvalidSpec) {
		t.Errorf("Fill with another build id = %v, want ErrInvalidSpec", err)
	}
	if err := p.Fill(s); err != nil {
		t.Fatal(err)
	}
	if err := p.Fill(s); err == nil {
		t.Error("a second Fill was accepted")
	}
	if err := p.Ready(); err != nil {
		t.Fatalf("Ready (filled): %v", err)
	}
	if err := p.Go(); err != nil {
		t.Fatal(err)
	}
	res, err := p.Wait()
	<-copied
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("build: %v %+v\n%s", err, res, log.String())
	}
	if got, want := strings.Fields(log.String()), []string{"1000", "ro"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("log = %q, want %q", got, want)
	}
	if b, err := os.ReadFile(filepath.Join(s.Dir, "out", "greeting")); err != nil || string(b) != "hello\n" {
		t.Errorf("out/greeting = %q, %v", b, err)
	}
}

// TestPreparedRefused: features are not prepared ahead (their setup
// depends on the slot), nor is init's own user namespace over subordinate
// ids without the pool the slot will come from (its maps would be the
// slot's).
func TestPreparedRefused(t *testing.T) {
	for _, s := range []*Spec{
		{BuildID: "x", Dir: "/x", Features: Features{UIDRange: true}},
		{BuildID: "x", Dir: "/x", UserNS: &UserNS{UID: 1, GID: 1, Sub: true}},
	} {
		if _, err := SpawnPrepared(s); !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), "a prepared sandbox is for") {
			t.Errorf("SpawnPrepared(%+v) = %v, want ErrInvalidSpec refusing a prepared sandbox", s, err)
		}
	}
}

// TestPreparedEndsOnTerm: a prepared sandbox no build has taken ends at
// once on SIGTERM (its scope stopped), as nothing of a build runs in it.
func TestPreparedEndsOnTerm(t *testing.T) {
	s := newSpec(t, "true")
	if err := PrepareDir(s.Dir); err != nil {
		t.Fatal(err)
	}
	p, err := SpawnPrepared(&Spec{BuildID: s.BuildID, Dir: s.Dir})
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, p.Log)
	if err := p.Ready(); err != nil {
		t.Fatal(err)
	}
	if !p.Alive() {
		t.Error("Alive = false while init waits for a request")
	}
	if err := unix.Kill(p.PID(), unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	case <-time.After(10 * time.Second):
		p.Kill()
		t.Fatal("a prepared sandbox's init did not end on SIGTERM")
	}
	if p.Alive() {
		t.Error("Alive = true once init has exited")
	}
	p.Wait()
}

// TestPreparedFillKeepsUserNS: a prepared sandbox is filled only with the
// user namespace it was started in, the pool's ids included.
func TestPreparedFillKeepsUserNS(t *testing.T) {
	pool := IDPool{UID: 200000, GID: 300000, Count: 2 * 65536}
	u := &UserNS{UID: 1000, GID: 100, Sub: true, Pool: pool}
	other := *u
	other.Pool.Count = 65536
	for _, tc := range []struct {
		name     string
		prepared *UserNS
		filled   *UserNS
		same     bool
	}{
		{"caller's", nil, nil, true},
		{"equal copies", u, &UserNS{UID: 1000, GID: 100, Sub: true, Pool: pool}, true},
		{"another pool", u, &other, false},
		{"none for one", u, nil, false},
		{"one for none", nil, u, false},
	} {
		if got := sameUserNS(tc.prepared, tc.filled); got != tc.same {
			t.Errorf("%s: sameUserNS = %v, want %v", tc.name, got, tc.same)
		}
	}
	p := &Process{prepared: true, spec: &Spec{BuildID: "x", Dir: "/x", UserNS: u}}
	// A valid spec that differs from the prepared one in its pool alone.
	fill := &Spec{BuildID: "x", Dir: "/x", UserNS: &other, Args: []string{"true"}, HostID: 200000, HostGID: 300000, IDCount: 65536}
	if err := fill.Validate(); err != nil {
		t.Fatalf("the filling spec: %v", err)
	}
	if err := p.Fill(fill); !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), "user namespace") {
		t.Errorf("Fill with another pool = %v, want ErrInvalidSpec naming the user namespace", err)
	}
}
