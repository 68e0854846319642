package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/api"
)

func queryDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	noConfig(t)
	running := api.Build{ID: "1a2b00000000", User: "alice", Slot: 0, Args: []string{"make"}, Outcome: api.Outcome{Status: api.StatusRunning},
		Created: t0, Started: t0}
	queued := api.Build{ID: "1a3c00000000", User: "alice", Slot: -1, Args: []string{"make"}, Outcome: api.Outcome{Status: api.StatusQueued}, Created: t0}
	segv := *finishedBuild("9f0000000000")
	segv.Outcome = api.Outcome{Status: api.StatusFailed, ExitCode: 139, Signal: 11, Error: "builder killed by signal SEGV (core not dumped)"}
	cancelled := *finishedBuild("5c0000000000")
	cancelled.Outcome = api.Outcome{Status: api.StatusCancelled, Error: "cancelled"}
	d := &fakeDaemon{builds: []api.Build{running, queued, segv, *finishedBuild("7e0000000000"), cancelled},
		logs: map[string]string{"7e0000000000": "one\ntwo\nthree\n", "9f0000000000": "a\nb"}}
	d.serve(t)
	return d
}

func TestList(t *testing.T) {
	queryDaemon(t)
	out, errOut, code := cli(t, "list")
	if code != 0 {
		t.Fatalf("list = %d, %s", code, errOut)
	}
	for id, exit := range map[string]string{"1a2b00000000": "-", "1a3c00000000": "-", "9f0000000000": "SEGV", "7e0000000000": "0", "5c0000000000": "-"} {
		var row []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, id) {
				row = strings.Fields(l)
			}
		}
		if len(row) < 6 || row[5] != exit {
			t.Errorf("list row of %s = %q, want EXIT %s", id, row, exit)
		}
	}
	_, errOut, code = cli(t, "list", "--status", "runing")
	if code != exitSdbuild || !strings.Contains(errOut, `list --status "runing": no such status; want one of queued, running,`) {
		t.Errorf("list --status runing = %d, %q", code, errOut)
	}
}

func TestShowCancelPrefixes(t *testing.T) {
	queryDaemon(t)
	out, errOut, code := cli(t, "show", "7e", "9f")
	if code != 0 || !strings.Contains(out, "ID:          7e0000000000") || !strings.Contains(out, "ID:          9f0000000000") {
		t.Errorf("show 7e 9f = %d, %q, %q", code, out, errOut)
	}
	for _, want := range []string{"Memory peak: 16.3M\n", "CPU:         456ms\n", "Duration:    1.234s\n", "Exit:        SEGV\n",
		"Started:     " + t0.Local().Format(systemdTime)} {
		if !strings.Contains(out, want) {
			t.Errorf("show = %q, want it to contain %q", out, want)
		}
	}
	out, errOut, code = cli(t, "cancel", "1a2b", "1a3", "ffff")
	if code != exitSdbuild || !strings.Contains(out, "build 1a2b00000000 cancelled\nbuild 1a3c00000000 cancelled\n") ||
		!strings.Contains(errOut, "build ffff: no such build") || !strings.Contains(errOut, "1 of 3 builds failed") {
		t.Errorf("cancel 1a2b 1a3 ffff = %d, %q, %q", code, out, errOut)
	}
	// show --json: one object per build, so jq reads them all.
	out, _, code = cli(t, "show", "--json", "7e", "9f")
	if code != 0 || strings.Count(out, `"id": `) != 2 {
		t.Errorf("show --json 7e 9f = %d, %q", code, out)
	}
}

func TestLogs(t *testing.T) {
	queryDaemon(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"7e"}, "one\ntwo\nthree\n"},
		{[]string{"-n", "2", "7e"}, "two\nthree\n"},
		{[]string{"--tail", "1", "9f"}, "b"},
		{[]string{"-n", "0", "7e"}, ""},
		{[]string{"7e", "9f"}, "==> 7e <==\none\ntwo\nthree\n\n==> 9f <==\na\nb"},
	} {
		out, errOut, code := cli(t, append([]string{"logs"}, tt.args...)...)
		if code != 0 || out != tt.want {
			t.Errorf("logs %q = %d, %q, %q; want %q", tt.args, code, out, errOut, tt.want)
		}
	}
	if _, errOut, code := cli(t, "logs", "-f", "7e", "9f"); code != exitSdbuild || !strings.Contains(errOut, "one build at a time") {
		t.Errorf("logs -f of two = %d, %q", code, errOut)
	}
}

func TestTailLines(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\nc\n", 5, "a\nb\nc\n"},
		{"a\nb\nc\n", -1, "a\nb\nc\n"},
		{"a\nb\nc\n", 0, ""},
		{"", 3, ""},
		{"\n\n", 1, "\n"},
	} {
		if got := string(tailLines([]byte(tt.in), tt.n)); got != tt.want {
			t.Errorf("tailLines(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// journalctl -o json, as it writes a build's entries: lifecycle entries
// are left out, a binary MESSAGE is an array of bytes, and following
// ends at the finished entry.
func TestJournalLines(t *testing.T) {
	const in = `{"MESSAGE":"build x queued","SDBUILD_EVENT":"queued","SDBUILD_ID":"x"}
{"MESSAGE":"hello","SDBUILD_ID":"x"}
{"MESSAGE":[104,105,255],"SDBUILD_ID":"x"}
{"MESSAGE":"build x finished: succeeded","SDBUILD_EVENT":"finished","SDBUILD_ID":"x"}
{"MESSAGE":"after","SDBUILD_ID":"x"}
`
	for _, tt := range []struct {
		until bool
		want  string
	}{
		{false, "hello\nhi\xff\nafter\n"},
		{true, "hello\nhi\xff\n"},
	} {
		var out bytes.Buffer
		if err := journalLines(strings.NewReader(in), &out, tt.until); err != nil || out.String() != tt.want {
			t.Errorf("journalLines(until finished %v) = %q, %v; want %q", tt.until, out.String(), err, tt.want)
		}
	}
	for in, want := range map[string]string{"10min": "-600s", "90": "-90s", "yesterday": "yesterday", "2026-12-02 10:00": "2026-12-02 10:00"} {
		if got := journalSince(in); got != want {
			t.Errorf("journalSince(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for _, tt := range []struct {
		n    uint64
		want string
	}{
		{0, "0B"}, {512, "512B"}, {1024, "1.0K"}, {1536, "1.5K"}, {16 << 20, "16.0M"},
		{17196646, "16.3M"}, {17196646 + 52429, "16.4M"}, {3 << 30, "3.0G"}, {1 << 50, "1.0P"},
	} {
		if got := formatBytes(tt.n); got != tt.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestCompletion(t *testing.T) {
	queryDaemon(t)
	for _, tt := range []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"show", "1a"}, []string{"1a2b00000000\trunning: make", "1a3c00000000\tqueued: make"}, []string{"7e0000000000"}},
		{[]string{"show", "1a2b00000000", ""}, []string{"1a3c00000000"}, []string{"1a2b00000000\t"}},
		{[]string{"enter", ""}, []string{"1a2b00000000"}, []string{"1a3c00000000", "7e0000000000"}},
		{[]string{"cancel", ""}, []string{"1a2b00000000", "1a3c00000000"}, []string{"7e0000000000"}},
		{[]string{"logs", "7"}, []string{"7e0000000000"}, nil},
		{[]string{"run", "--feature", ""}, []string{"uid-range\t", "systemd-cgroup\t", "network\t", "kvm\t", "tun\t"}, nil},
		{[]string{"run", "-p", "Mem"}, []string{"MemoryMax=", "MemoryHigh="}, []string{"TasksMax="}},
		{[]string{"list", "--status", ""}, []string{"queued", "timed-out"}, nil},
	} {
		out, errOut, code := cli(t, append([]string{"__complete"}, tt.args...)...)
		for _, w := range tt.want {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("complete %q = %d, %q, %q; want %q", tt.args, code, out, errOut, w)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(out, n) {
				t.Errorf("complete %q = %q; want no %q", tt.args, out, n)
			}
		}
	}
}

// Every command a user runs says how it is used.
func TestExamples(t *testing.T) {
	for _, c := range newRootCommand().Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if c.Example == "" {
			t.Errorf("sdbuild %s has no Example", c.Name())
		}
	}
}
