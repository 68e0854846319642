package build

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/internal/testutil"
	"github.com/sdbuild/sdbuild/outputs"
	"github.com/sdbuild/sdbuild/sandbox"
	"github.com/sdbuild/sdbuild/slots"
)

func TestMain(m *testing.M) {
	sandbox.MaybeInit()
	os.Exit(m.Run())
}

// testStartID is far above the ids real builds use, and apart from the
// ranges other packages' tests use (slots 0xE0000000, sandbox 0xE1000000).
const testStartID = 3791650816 // 0xE2000000

var baseInputs = []string{"/usr", "/bin", "/lib", "/lib64"}

// newRunner returns a runner on a private state dir with two slots.
func newRunner(t *testing.T) (*Runner, string) {
	t.Helper()
	return newRunnerWith(t, Options{})
}

// newRunnerWith is newRunner with opt's other options.
func newRunnerWith(t *testing.T, opt Options) (*Runner, string) {
	t.Helper()
	testutil.RequireRoot(t, "creates namespaces, maps host ids and mounts")
	state := t.TempDir()
	pool, err := slots.Open(slots.Options{Dir: filepath.Join(state, "userpool"), StartID: testStartID, IDsPerBuild: 65536, Slots: 2})
	if err != nil {
		t.Fatal(err)
	}
	opt.StateDir, opt.Pool = state, pool
	r, err := NewRunner(opt)
	if err != nil {
		t.Fatal(err)
	}
	return r, state
}

// testOwner is the requesting user of shRequest's builds.
var testOwner = outputs.Owner{UID: 4242, GID: 4343}

// ownerDir returns a fresh directory of testOwner's, for outputs: they are
// created with the requesting user's credentials.
func ownerDir(t *testing.T) string {
	t.Helper()
	return testutil.OwnedDir(t, testOwner.UID, testOwner.GID)
}

func shRequest(script string) *Request {
	return &Request{
		Args:   []string{"/bin/sh", "-c", script},
		Env:    []string{"PATH=/usr/bin:/bin"},
		Inputs: baseInputs,
		Owner:  testOwner,
	}
}

func TestRunOutputs(t *testing.T) {
	r, state := newRunner(t)
	dst := filepath.Join(ownerDir(t), "result")
	req := shRequest(`echo hello > $out/greeting; mkdir $out/bin; printf x > $out/bin/tool; chmod 6777 $out/bin/tool; ln -s greeting $out/link; ln -s /etc/shadow $out/abs`)
	req.Output = dst
	var log bytes.Buffer
	res, err := r.Run(context.Background(), "outputs", req, &log)
	if err != nil || res.Status != api.StatusSucceeded {
		t.Fatalf("Run = %+v, %v\n%s", res, err, log.String())
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "greeting")); string(b) != "hello\n" {
		t.Errorf("greeting = %q", b)
	}
	st, err := os.Lstat(filepath.Join(dst, "bin", "tool"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 || st.Mode().Perm() != 0o755 {
		t.Errorf("tool mode = %v, want setuid/setgid and group/world write stripped (-rwxr-xr-x)", st.Mode())
	}
	if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 4242 || sys.Gid != 4343 {
		t.Errorf("tool owned by %d:%d, want the requesting user 4242:4343", sys.Uid, sys.Gid)
	}
	for link, want := range map[string]string{"link": "greeting", "abs": "/etc/shadow"} {
		if got, err := os.Readlink(filepath.Join(dst, link)); err != nil || got != want {
			t.Errorf("readlink %s = %q, %v; want %q copied as a link", link, got, err, want)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(state, "builds")); len(ents) != 0 {
		t.Errorf("build directories left in the state dir: %v", ents)
	}
}

func TestRunOutcomes(t *testing.T) {
	tests := []struct {
		name   string
		req    *Request
		cancel time.Duration
		want   api.Outcome
	}{
		{name: "exit status", req: shRequest(`exit 3`), want: api.Outcome{Status: api.StatusFailed, ExitCode: 3, Error: "builder exited with status 3"}},
		{name: "signal", req: shRequest(`kill -TERM $$`), want: api.Outcome{Status: api.StatusFailed, ExitCode: 143, Signal: 15, Error: "builder killed by signal TERM (core not dumped)"}},
		{name: "timeout", req: func() *Request { q := shRequest(`echo start; sleep 100`); q.Timeout = 300 * time.Millisecond; return q }(),
			want: api.Outcome{Status: api.StatusTimedOut, Limit: "timeout", Error: "timeout of 300ms reached: build killed"}},
		{name: "max-silent-time", req: func() *Request {
			q := shRequest(`for i in 1 2 3; do echo tick; sleep 0.1; done; sleep 100`)
			q.MaxSilentTime = 400 * time.Millisecond
			q.Timeout = time.Minute
			return q
		}(), want: api.Outcome{Status: api.StatusTimedOut, Limit: "max-silent-time", Error: "max-silent-time of 400ms reached: build killed"}},
		{name: "cancel", req: shRequest(`sleep 100`), cancel: 200 * time.Millisecond, want: api.Outcome{Status: api.StatusCancelled, Error: "cancelled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := newRunner(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel > 0 {
				time.AfterFunc(tt.cancel, cancel)
			}
			var log bytes.Buffer
			res, err := r.Run(ctx, "outcome", tt.req, &log)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := res.Outcome; got != tt.want {
				t.Errorf("Run = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRunBadRequests(t *testing.T) {
	existing := t.TempDir()
	tests := []struct {
		name string
		mut  func(*Request)
		want string
	}{
		{"unknown feature", func(q *Request) { q.Features = []string{"uid-range", "kvmm"} }, `feature "kvmm": unknown feature`},
		{"missing input", func(q *Request) { q.Inputs = append(q.Inputs, "/no/such/input") }, "input /no/such/input: no such file or directory"},
		{"relative input", func(q *Request) { q.Inputs = append(q.Inputs, "usr") }, `must be absolute`},
		{"output exists", func(q *Request) { q.Output = existing }, "already exists; remove it or choose another --output"},
		{"output without parent", func(q *Request) { q.Output = "/no/such/dir/result" }, "parent directory /no/such/dir does not exist"},
		{"fixed env", func(q *Request) { q.Env = []string{"SDBUILD_BUILD_ID=x"} }, "SDBUILD_BUILD_ID is set by sdbuild"},
		{"no command", func(q *Request) { q.Args = nil }, "no command to run"},
		{"systemd-cgroup locally", func(q *Request) { q.Features = []string{"uid-range", "systemd-cgroup"} }, "only the sdbuild daemon creates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, state := newRunner(t)
			q := shRequest("true")
			tt.mut(q)
			_, err := r.Run(context.Background(), "bad", q, &bytes.Buffer{})
			if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run = %v, want ErrBadRequest containing %q", err, tt.want)
			}
			// Nothing started: no slot record, no build directory.
			if ents, _ := os.ReadDir(filepath.Join(state, "builds")); len(ents) != 0 {
				t.Errorf("a bad request left build directories: %v", ents)
			}
		})
	}
}

func TestRunRejectsSpecialOutputs(t *testing.T) {
	r, _ := newRunner(t)
	dst := filepath.Join(ownerDir(t), "result")
	q := shRequest(`echo ok > $out/fine; mkfifo $out/pipe`)
	q.Output = dst
	res, err := r.Run(context.Background(), "fifo", q, &bytes.Buffer{})
	if !errors.Is(err, ErrOutputRejected) || !strings.Contains(err.Error(), "$out/pipe") || res == nil || res.Status != api.StatusFailed {
		t.Fatalf("Run = %+v, %v; want a failed build naming $out/pipe", res, err)
	}
	if _, err := os.Lstat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rejected outputs left %s behind", dst)
	}
}

func TestSlotsAreReleased(t *testing.T) {
	r, _ := newRunner(t)
	for i := 0; i < 5; i++ { // more builds than the pool's two slots
		res, err := r.Run(context.Background(), "again", shRequest("true"), &bytes.Buffer{})
		if err != nil || res.Status != api.StatusSucceeded {
			t.Fatalf("build %d: %+v, %v", i, res, err)
		}
	}
}

// A build directory left by a holder that crashed is removed when its slot
// is leased again, without following the symlinks the build left in it.
func TestLeftoverBuildDirRemoved(t *testing.T) {
	r, state := newRunner(t)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "keep"), []byte("keep"), 0o644)
	left := filepath.Join(state, "builds", "slot-0", "build")
	if err := os.MkdirAll(left, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Symlink(outside, filepath.Join(left, "escape"))
	res, err := r.Run(context.Background(), "after-crash", shRequest("true"), &bytes.Buffer{})
	if err != nil || res.Status != api.StatusSucceeded || res.Slot != 0 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(state, "builds")); len(ents) != 0 {
		t.Errorf("leftover build directories: %v", ents)
	}
	if _, err := os.Stat(filepath.Join(outside, "keep")); err != nil {
		t.Errorf("removing the leftover followed its symlink: %v", err)
	}
}

// A leftover that cannot be deleted (here: a mount inside it) does not
// take its slot out of service: it is moved aside and named in the log.
func TestUndeletableLeftoverMovedAside(t *testing.T) {
	r, state := newRunner(t)
	m := filepath.Join(state, "builds", "slot-0", "build", "m")
	if err := os.MkdirAll(m, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", m, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res, err := r.Run(context.Background(), "after-stuck", shRequest("true"), &log)
	stale := filepath.Join(state, "builds", "slot-0.stale-after-stuck")
	t.Cleanup(func() { syscall.Unmount(filepath.Join(stale, "build", "m"), syscall.MNT_DETACH) })
	if err != nil || res.Status != api.StatusSucceeded || res.Slot != 0 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if !strings.Contains(log.String(), "moved it to "+stale) {
		t.Errorf("log %q does not say where the leftover went", log.String())
	}
	if _, err := os.Stat(filepath.Join(stale, "build", "m")); err != nil {
		t.Errorf("the leftover was not kept aside: %v", err)
	}
}

// A runner without root refuses, before anything starts, what only root
// can give a build: a device node of its own, and a range of ids without
// subordinate ids.
func TestCheckWithoutRoot(t *testing.T) {
	noSub := errors.New("no subordinate ids: add a line to /etc/subuid")
	for _, tt := range []struct {
		name     string
		opt      Options
		features []string
		want     string
	}{
		{"kvm", Options{UserNS: &sandbox.UserNS{UID: 1000, GID: 1000, Sub: true}}, []string{"kvm"}, "only root can make"},
		{"tun", Options{UserNS: &sandbox.UserNS{UID: 1000, GID: 1000, Sub: true}}, []string{"tun"}, "only root can make"},
		{"uid-range without a grant", Options{UserNS: &sandbox.UserNS{UID: 1000, GID: 1000}, NoSubIDs: noSub}, []string{"uid-range"}, "/etc/subuid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &Runner{opt: tt.opt}
			q := shRequest("true")
			q.Features = tt.features
			_, err := r.Check(q)
			if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check = %v, want ErrBadRequest containing %q", err, tt.want)
			}
		})
	}
}

// A feature whose program is not on PATH is refused before anything
// starts, naming the program and its package (sandbox's table says what
// each feature needs).
func TestCheckNeedsExecutables(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	r := &Runner{opt: Options{}}
	q := shRequest("true")
	q.Features = []string{"network"}
	_, err := r.Check(q)
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "slirp4netns on PATH (Debian package slirp4netns)") {
		t.Errorf("Check of network without slirp4netns = %v, want ErrBadRequest naming slirp4netns and its package", err)
	}
}

// TestStalePreparedRemovedOnlyWhenAsked: a second runner on the same state
// directory (run --local beside the daemon) leaves the daemon's prepared
// sandboxes' directories alone. StalePrepared, which only the daemon
// calls before it prepares any, removes those there when it was called,
// unreadable trees included, and nothing else: not a sandbox prepared
// since, not another directory. One it cannot remove is moved aside and
// named.
func TestStalePreparedRemovedOnlyWhenAsked(t *testing.T) {
	r, state := newRunner(t)
	builds := filepath.Join(state, "builds")
	prep := filepath.Join(builds, preparedPrefix+"0123456789ab")
	stuck := filepath.Join(builds, preparedPrefix+"0123456789cd")
	other := filepath.Join(builds, "slot-1")
	for _, d := range []string{filepath.Join(prep, "build", "d"), filepath.Join(stuck, "build"), other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(prep, "build", "d"), 0); err != nil {
		t.Fatal(err)
	}
	// A file not even root may delete (FS_IMMUTABLE_FL), as one on ids
	// outside the pool is for a daemon without root.
	immutable := filepath.Join(stuck, "build", "f")
	setImmutable(t, immutable, true)
	t.Cleanup(func() {
		setImmutable(t, immutable, false)
		setImmutable(t, filepath.Join(builds, "stale-"+filepath.Base(stuck), "build", "f"), false)
	})
	if _, err := NewRunner(r.opt); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(prep); err != nil {
		t.Fatalf("a second runner on the state directory removed a prepared sandbox's directory: %v", err)
	}
	remove, err := r.StalePrepared()
	if err != nil {
		t.Fatal(err)
	}
	ours := filepath.Join(builds, preparedPrefix+"0123456789ef") // prepared after the listing
	if err := os.Mkdir(ours, 0o700); err != nil {
		t.Fatal(err)
	}
	err = remove()
	if _, serr := os.Stat(prep); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("%s after the removal: %v, want it gone", prep, serr)
	}
	for _, d := range []string{other, ours} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("the removal took %s: %v", d, err)
		}
	}
	aside := filepath.Join(builds, "stale-"+filepath.Base(stuck))
	if _, serr := os.Stat(aside); serr != nil || err == nil || !strings.Contains(err.Error(), aside) {
		t.Errorf("a directory that cannot be removed: moved aside %v, error %v; want it at %s, named in the error", serr, err, aside)
	}
	if _, serr := os.Stat(stuck); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("%s is still there, to be tried at every start", stuck)
	}
}

// fsImmutableFL is linux/fs.h's FS_IMMUTABLE_FL, which x/sys/unix lacks.
const fsImmutableFL = 0x00000010

// setImmutable sets or clears path's FS_IMMUTABLE_FL.
func setImmutable(t *testing.T, path string, on bool) {
	t.Helper()
	if on {
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		if !on && errors.Is(err, os.ErrNotExist) {
			return
		}
		t.Fatal(err)
	}
	defer f.Close()
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil {
		t.Fatalf("FS_IOC_GETFLAGS %s: %v (the test needs a file system with inode flags, as ext4)", path, err)
	}
	if on {
		flags |= fsImmutableFL
	} else {
		flags &^= fsImmutableFL
	}
	if err := unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, int(flags)); err != nil {
		t.Fatalf("FS_IOC_SETFLAGS %s: %v", path, err)
	}
}

// TestPreparableProperties: a build takes a prepared sandbox only when its
// scope properties are exactly those the prepared scopes start with (the
// daemon's defaults and caps, for a build that sets none).
func TestPreparableProperties(t *testing.T) {
	r, _ := newRunner(t)
	// Properties need a placement (a daemon's); nothing is run here.
	r.opt.Place = func(context.Context, string, int, *Request) (*Placement, error) {
		return nil, errors.New("not placed in this test")
	}
	r.opt.PreparedProperties = []string{"TasksMax=77"}
	for _, tc := range []struct {
		props []string
		want  bool
	}{
		{[]string{"TasksMax=77"}, true},
		{nil, false},
		{[]string{"TasksMax=78"}, false},
		{[]string{"TasksMax=77", "CPUWeight=10"}, false},
	} {
		req := shRequest("true")
		req.Properties = tc.props
		c, err := r.Check(req)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Preparable(c); got != tc.want {
			t.Errorf("Preparable with properties %q (prepared scopes have %q) = %v, want %v", tc.props, r.opt.PreparedProperties, got, tc.want)
		}
	}
	r.opt.PreparedProperties = nil
	if c, err := r.Check(shRequest("true")); err != nil || !r.Preparable(c) {
		t.Errorf("a build without properties on a runner whose prepared scopes have none: Preparable false (%v)", err)
	}
	// Nor without root, unless init's namespace maps the whole pool.
	r.opt.UserNS = &sandbox.UserNS{UID: 1000, GID: 100, Sub: true}
	if c, err := r.Check(shRequest("true")); err != nil || r.Preparable(c) {
		t.Errorf("a runner whose init namespace has no pool of subordinate ids: Check %v, Preparable true; want false", err)
	}
}

// A build's placement is ended, and its slot released, in the background
// after Run has returned, and only once the placement's Linger has.
func TestTeardownAfterLinger(t *testing.T) {
	events := make(chan string, 10)
	lingering := make(chan struct{})
	linger := make(chan struct{})
	place := func(ctx context.Context, id string, pid int, req *Request) (*Placement, error) {
		return &Placement{
			Unit: "test-" + id,
			End: func() func() {
				events <- "end"
				return func() { events <- "stop" }
			},
			Linger: func() { close(lingering); <-linger; events <- "lingered" },
		}, nil
	}
	r, _ := newRunnerWith(t, Options{Place: place, BackgroundCleanup: true, Released: func() { events <- "released" }})
	res, err := r.Run(context.Background(), "linger", shRequest("true"), &bytes.Buffer{})
	if err != nil || res.Status != api.StatusSucceeded {
		t.Fatalf("build: %+v, %v", res, err)
	}
	if e := <-events; e != "end" {
		t.Fatalf("first after the build: %q, want end", e)
	}
	select {
	case <-lingering:
	case <-time.After(10 * time.Second):
		t.Fatal("the teardown never lingered")
	}
	select {
	case e := <-events:
		t.Fatalf("%q while the placement lingered", e)
	case <-time.After(100 * time.Millisecond):
	}
	close(linger)
	var got []string
	for len(got) < 3 {
		select {
		case e := <-events:
			got = append(got, e)
		case <-time.After(10 * time.Second):
			t.Fatalf("after the linger: %q, then nothing", got)
		}
	}
	if !slices.Equal(got, []string{"lingered", "stop", "released"}) {
		t.Errorf("after the linger: %q, want lingered, stop, released", got)
	}
	r.Wait()
}
