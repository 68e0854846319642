//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/buildlog"
)

// finishedEntry returns the journal's finished entry of build id, as
// journalctl -o json gives its fields.
func finishedEntry(t *testing.T, id string) map[string]any {
	t.Helper()
	var e map[string]any
	waitFor(t, "the finished entry of "+id+" in the journal", func() bool {
		exec.Command("journalctl", "--sync").Run()
		out, _ := exec.Command("journalctl", "-o", "json", "--no-pager", "SDBUILD_ID="+id, "SDBUILD_EVENT=finished").Output()
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return line != "" && json.Unmarshal([]byte(line), &e) == nil
	})
	return e
}

// detached runs a build with --detach and returns its id.
func detached(t *testing.T, cred *syscall.Credential, extra []string, script string) string {
	t.Helper()
	r := sdbuild(t, cred, runArgs(append([]string{"--detach"}, extra...), script)...)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" {
		t.Fatalf("run --detach: %d %q %q", r.code, r.stdout, r.stderr)
	}
	return id
}

func finalOf(t *testing.T, id string) *api.Build {
	t.Helper()
	var b *api.Build
	waitFor(t, "the final record of "+id, func() bool { b = show(t, id); return b.Status.Finished() })
	return b
}

// Why a build died, in the record (show --json) and in the journal, with
// the priority and message id systemd's own records would have.
func TestWhyABuildDied(t *testing.T) {
	for _, tt := range []struct {
		name, script string
		extra        []string
		cancel       bool
		cause, pri   string
		msgID        string
	}{
		{name: "succeeded", script: "true", pri: "6", msgID: buildlog.MessageSucceeded},
		{name: "exit status", script: "exit 3", cause: api.CauseExited, pri: "3", msgID: buildlog.MessageFailed},
		{name: "signal", script: "kill -SEGV $$", cause: api.CauseSignal, pri: "3", msgID: buildlog.MessageFailed},
		{name: "timeout", script: "sleep 100", extra: []string{"--timeout", "300ms"}, cause: api.CauseTimeout, pri: "3", msgID: buildlog.MessageFailed},
		{name: "silence", script: "echo start; sleep 100", extra: []string{"--max-silent-time", "300ms"}, cause: api.CauseSilent, pri: "3", msgID: buildlog.MessageFailed},
		{name: "cancelled", script: "sleep 100", cancel: true, cause: api.CauseCancelled, pri: "5", msgID: buildlog.MessageCancelled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := detached(t, nil, tt.extra, tt.script)
			if tt.cancel {
				waitFor(t, "the build to run", func() bool { return show(t, id).Status == api.StatusRunning })
				if r := sdbuild(t, nil, "cancel", id); r.code != 0 {
					t.Fatalf("cancel: %d %q", r.code, r.stderr)
				}
			}
			b := finalOf(t, id)
			if b.Cause != tt.cause || (tt.cancel && b.CancelledBy != "root") {
				t.Errorf("record: cause %q cancelled_by %q (%+v), want %q", b.Cause, b.CancelledBy, b.Outcome, tt.cause)
			}
			if tt.cause != "" {
				if r := sdbuild(t, nil, "show", id); !strings.Contains(r.stdout, "Cause:") || !strings.Contains(r.stdout, tt.cause) {
					t.Errorf("show lacks the cause:\n%s", r.stdout)
				}
			}
			e := finishedEntry(t, id)
			if e["PRIORITY"] != tt.pri || e["MESSAGE_ID"] != tt.msgID || (tt.cause != "" && e["SDBUILD_CAUSE"] != tt.cause) {
				t.Errorf("journal: PRIORITY=%v MESSAGE_ID=%v SDBUILD_CAUSE=%v, want %s %s %q", e["PRIORITY"], e["MESSAGE_ID"], e["SDBUILD_CAUSE"], tt.pri, tt.msgID, tt.cause)
			}
		})
	}
	// journalctl -p err lists failed builds and no succeeded one.
	out, _ := exec.Command("journalctl", "-o", "cat", "--no-pager", "-p", "err", "SYSLOG_IDENTIFIER=sdbuild", "SDBUILD_EVENT=finished").Output()
	if !strings.Contains(string(out), "failed") || strings.Contains(string(out), ": succeeded,") {
		t.Errorf("journalctl -p err:\n%s", out)
	}
}

// gc removes finished builds' records and logs, for trusted users only,
// and never a running build's.
func TestGC(t *testing.T) {
	running := detached(t, nil, nil, "sleep 1000")
	var done []string
	for range 3 {
		r := sdbuild(t, nil, runArgs([]string{"--name", "gc-test"}, "echo x")...)
		if r.code != 0 {
			t.Fatalf("run: %d %q", r.code, r.stderr)
		}
	}
	r := sdbuild(t, nil, "list", "--json", "--name", "gc-test")
	var bs []api.Build
	json.Unmarshal([]byte(r.stdout), &bs)
	for _, b := range bs {
		done = append(done, b.ID)
	}
	if r := sdbuild(t, nobody, "gc", "--older-than", "0s"); r.code == 0 || !strings.Contains(r.stderr, "only trusted-users") {
		t.Errorf("gc as nobody: %d %q", r.code, r.stderr)
	}
	r = sdbuild(t, nil, "gc", "--older-than", "0s", "--json")
	var rep api.GCReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || rep.Builds < 3 {
		t.Fatalf("gc --older-than 0s: %d %q %q", r.code, r.stdout, r.stderr)
	}
	for _, id := range done {
		if r := sdbuild(t, nil, "show", id); r.code == 0 {
			t.Errorf("build %s still shown after gc", id)
		}
		if _, err := os.Stat(filepath.Join(stateDir, "logs", id+".log")); !os.IsNotExist(err) {
			t.Errorf("log of %s after gc: %v", id, err)
		}
	}
	if b := show(t, running); b.Status != api.StatusRunning {
		t.Errorf("running build after gc: %+v", b)
	}
	if r := sdbuild(t, nil, "logs", running); r.code != 0 {
		t.Errorf("logs of the running build after gc: %d %q", r.code, r.stderr)
	}
	sdbuild(t, nil, "cancel", running)
	exec.Command("journalctl", "--sync").Run()
	out, _ := exec.Command("journalctl", "-o", "cat", "--no-pager", "MESSAGE_ID="+buildlog.MessageCollected).Output()
	if !strings.Contains(string(out), "gc removed") {
		t.Errorf("journal lacks gc's entry:\n%s", out)
	}
}

// The metrics and status count builds by status; the queue and slots show.
func TestMetrics(t *testing.T) {
	if r := sdbuild(t, nil, runArgs(nil, "true")...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := api.NewClient(socket).Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`sdbuild_builds_finished_total{status="succeeded"} `, "sdbuild_queue_depth 0", "sdbuild_slots 2",
		"sdbuild_slots_quarantined 0", `sdbuild_build_duration_seconds_bucket{le="+Inf"} `} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
	if r := sdbuild(t, nil, "status"); !strings.Contains(r.stdout, "finished since start: ") || !strings.Contains(r.stdout, " succeeded") {
		t.Errorf("status: %q", r.stdout)
	}
}

// rerun --check finds a build that does not reproduce and passes one that
// does; another user cannot rerun someone's build.
func TestRerunCheck(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	same, diff := filepath.Join(dir, "same"), filepath.Join(dir, "diff")
	sdbuild(t, nil, runArgs([]string{"-o", same, "--name", "rerun-same"}, `mkdir $out/bin; echo tool > $out/bin/tool`)...)
	sdbuild(t, nil, runArgs([]string{"-o", diff, "--name", "rerun-diff"}, `echo stable > $out/a; cat /proc/sys/kernel/random/uuid > $out/stamp`)...)
	id := func(name string) string {
		var bs []api.Build
		json.Unmarshal([]byte(sdbuild(t, nil, "list", "--json", "--name", name, "--limit", "1").stdout), &bs)
		if len(bs) != 1 {
			t.Fatalf("no build %s", name)
		}
		return bs[0].ID
	}
	sameID, diffID := id("rerun-same"), id("rerun-diff")
	r := sdbuild(t, nil, "rerun", "--check", sameID)
	if r.code != 0 || !strings.Contains(r.stdout, "build "+sameID+" reproduced: 3 entries identical") {
		t.Errorf("rerun --check (reproducible): %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(same + ".check"); !os.IsNotExist(err) {
		t.Errorf("identical rerun output kept: %v", err)
	}
	r = sdbuild(t, nil, "rerun", "--check", diffID)
	if r.code != 1 || !strings.Contains(r.stdout, "is not reproducible: 1 difference ") || !strings.Contains(r.stdout, "stamp: contents differs") {
		t.Errorf("rerun --check (not reproducible): %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(diff+".check", "stamp")); err != nil {
		t.Errorf("differing rerun output not kept: %v", err)
	}
	// A plain rerun runs the same command again, as the same user.
	r = sdbuild(t, nil, "rerun", "--json", diffID)
	var b api.Build
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || r.code != 0 || b.Status != api.StatusSucceeded || b.Request == nil || b.Request.Name != "rerun-diff" {
		t.Errorf("rerun: %d %+v %v %q", r.code, b, err, r.stderr)
	}
	if r := sdbuild(t, nobody, "rerun", sameID); r.code == 0 || !strings.Contains(r.stderr, "no such build") {
		t.Errorf("rerun of root's build as nobody: %d %q", r.code, r.stderr)
	}
}

// --keep-failed hands a copy of a failed build's /build to its user, and
// gc removes it once it is old enough.
func TestKeepFailed(t *testing.T) {
	r := sdbuild(t, nobody, runArgs([]string{"--keep-failed", "--name", "keep-test"}, `echo half > /build/obj.o; ln -s /etc/shadow /build/evil; exit 2`)...)
	if r.code != 2 || !strings.Contains(r.stdout, "sdbuild: build directory kept at ") {
		t.Fatalf("run --keep-failed: %d %q %q", r.code, r.stdout, r.stderr)
	}
	var bs []api.Build
	json.Unmarshal([]byte(sdbuild(t, nobody, "list", "--json", "--name", "keep-test", "--limit", "1").stdout), &bs)
	if len(bs) != 1 || bs[0].KeptDir == "" {
		t.Fatalf("list: %+v", bs)
	}
	kept := bs[0].KeptDir
	fi, err := os.Lstat(filepath.Join(kept, "obj.o"))
	if err != nil || fi.Sys().(*syscall.Stat_t).Uid != 65534 {
		t.Fatalf("kept obj.o: %v, %v; want nobody's", fi, err)
	}
	if l, _ := os.Readlink(filepath.Join(kept, "evil")); l != "/etc/shadow" {
		t.Errorf("kept evil = %q, want the link itself", l)
	}
	if r := sdbuild(t, nobody, "show", bs[0].ID); !strings.Contains(r.stdout, "Kept directory: "+kept) {
		t.Errorf("show lacks the kept directory:\n%s", r.stdout)
	}
	if r := sdbuild(t, nil, "gc", "--older-than", "0s", "--json"); r.code != 0 || !strings.Contains(r.stdout, `"dirs": 1`) {
		t.Errorf("gc: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Lstat(kept); !os.IsNotExist(err) {
		t.Errorf("kept directory after gc: %v", err)
	}
}

// The daemon's default-max-silent-time and default-properties apply to
// builds that set none, and a longer limit is refused.
func TestDaemonDefaults(t *testing.T) {
	dropin := filepath.Join(unitDir, "sdbuild.service.d", "ops.conf")
	if err := os.WriteFile(dropin, []byte("[Service]\nEnvironment=SDBUILD_DEFAULT_MAX_SILENT_TIME=1s SDBUILD_DEFAULT_PROPERTIES=TasksMax=77\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	restart := func() {
		systemctl(t, "daemon-reload")
		systemctl(t, "stop", "sdbuild.service") // the next call starts it, with the drop-in
	}
	prepared := func() int {
		var st api.DaemonStatus
		json.Unmarshal([]byte(sdbuild(t, nil, "status", "--json").stdout), &st)
		return st.Prepared
	}
	hadPrepared := prepared() > 0
	t.Cleanup(func() {
		os.Remove(dropin)
		restart()
		// The next test meets a daemon that has settled as the first one
		// had: the stopped daemon's scopes gone (the new one kills any
		// left before it answers) and its sandboxes prepared again.
		if hadPrepared {
			waitFor(t, "the restarted daemon's prepared sandboxes", func() bool { return prepared() > 0 })
		}
	})
	restart()
	r := sdbuild(t, nil, runArgs([]string{"--max-silent-time", "1m"}, "true")...)
	if r.code != 125 || !strings.Contains(r.stderr, "max-silent-time 1min: longer than this daemon allows (default-max-silent-time = 1s)") {
		t.Errorf("run --max-silent-time 1m: %d %q", r.code, r.stderr)
	}
	// A build that sets no properties takes a sandbox prepared with the
	// defaults.
	waiting := readyPrepared(t, 1, func() int { return preparedCount(t) }, func() []string { return preparedScopes(t) })
	id := detached(t, nil, nil, "echo cores=$SDBUILD_BUILD_CORES; sleep 100")
	if !slices.Contains(waiting, id) {
		t.Errorf("build %s, with the default properties alone, did not take a prepared sandbox (waiting: %v)", id, waiting)
	}
	unit := "sdbuild-" + id + ".scope"
	waitFor(t, "the build's scope", func() bool { return systemctl(t, "is-active", unit) == "active" })
	if got := systemctl(t, "show", "-p", "TasksMax", "--value", unit); got != "77" {
		t.Errorf("TasksMax of %s = %q, want the default 77", unit, got)
	}
	b := finalOf(t, id)
	if b.Cause != api.CauseSilent {
		t.Errorf("a build silent for 1s: %+v, want killed for max-silent-time", b.Outcome)
	}
	if r := sdbuild(t, nil, "logs", id); !strings.Contains(r.stdout, "cores=") || strings.Contains(r.stdout, "cores=\n") {
		t.Errorf("log = %q, want SDBUILD_BUILD_CORES set", r.stdout)
	}
}
