package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// appender is a case that appends mark to the file at path, or fails.
func appender(name, path, mark string) benchCase {
	return benchCase{name: name, argv: []string{"sh", "-c", `printf %s "$1" >> "$2"`, "sh", mark, path}}
}

// The pairs run first back to back, then settled, bubblewrap before the
// daemon in each; then the other cases round by round. A case whose
// binary is missing, or that fails its warm-up run, is skipped, not
// timed. The figures are the timed runs' median, 90th centile and mean.
func TestRunRounds(t *testing.T) {
	log := filepath.Join(t.TempDir(), "runs")
	cases := []benchCase{
		rowDaemon: appender("daemon", log, "d"),
		rowBwrap:  appender("bwrap", log, "b"),
		rowSdRun:  appender("systemd-run", log, "s"),
		{name: "missing", argv: []string{"true"}, need: "no-such-binary-sdbuild-test"},
		{name: "failing", argv: []string{"sh", "-c", "echo broken >&2; exit 3"}},
		appender("other", log, "o"),
	}
	const n = 3
	rows := runRounds(cases, n)
	got, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	// One warm-up run each, then the pairs, then the rest.
	if want := "dbso" + strings.Repeat("bd", 2*n) + strings.Repeat("so", n); string(got) != want {
		t.Errorf("runs in the order %q, want %q", got, want)
	}
	for _, i := range []int{rowDaemon, rowBwrap} {
		if r := rows[i]; len(r.lat) != n || len(r.latBack) != n || r.p50Back == 0 {
			t.Errorf("%s: %d settled and %d back-to-back runs (p50 %v), want %d of each", r.name, len(r.lat), len(r.latBack), r.p50Back, n)
		}
	}
	if r := rows[rowSdRun]; len(r.lat) != n || len(r.latBack) != 0 {
		t.Errorf("systemd-run: %d settled and %d back-to-back runs, want %d and none", len(r.lat), len(r.latBack), n)
	}
	if r := rows[3]; r.skipped != "no-such-binary-sdbuild-test not found" || len(r.lat) != 0 {
		t.Errorf("a case without its binary: skipped %q after %d runs", r.skipped, len(r.lat))
	}
	if r := rows[4]; !strings.Contains(r.skipped, "failing") || !strings.Contains(r.skipped, "broken") || len(r.lat) != 0 {
		t.Errorf("a failing case: skipped %q after %d runs, want its name and output", r.skipped, len(r.lat))
	}
	for _, r := range rows[:3] {
		if !(r.p50 <= r.p90 && r.p50 > 0 && r.mean > 0) || r.p50 < benchMin(r.lat) || r.p90 > benchMax(r.lat) {
			t.Errorf("%s: p50 %v, p90 %v, mean %v of %v", r.name, r.p50, r.p90, r.mean, r.lat)
		}
	}
}

func benchMin(d []time.Duration) time.Duration {
	m := d[0]
	for _, x := range d {
		m = min(m, x)
	}
	return m
}

func benchMax(d []time.Duration) time.Duration {
	m := d[0]
	for _, x := range d {
		m = max(m, x)
	}
	return m
}

// Every run of a parallel case happens, once.
func TestRunParallel(t *testing.T) {
	log := filepath.Join(t.TempDir(), "runs")
	perSec, _, failed := runParallel(appender("case", log, "x"), 20, 4, nil)
	got, _ := os.ReadFile(log)
	if failed != "" || perSec <= 0 || string(got) != strings.Repeat("x", 20) {
		t.Errorf("runParallel = %v runs/s, %q; ran %q, want 20 runs", perSec, failed, got)
	}
	if _, _, failed := runParallel(benchCase{name: "failing", argv: []string{"false"}}, 5, 2, nil); !strings.Contains(failed, "failing") {
		t.Errorf("a failing case: %q, want its name", failed)
	}
}

// Latency ratios are medians of the ratios of the pairs as they ran;
// throughput and CPU are ratios of the totals.
func TestPrintRatios(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	rows := make([]benchRow, 3)
	// Pairs 10/40, 20/10, 30/25: ratios 0.25, 2.0, 1.2, median 1.2; the
	// ratio of the medians (20/25) or of the means would be 0.8.
	rows[rowDaemon] = benchRow{lat: ms(10, 20, 30), latBack: ms(5, 5, 50), throughput: 3, cpu: cpuParts{all: 60 * time.Millisecond}}
	rows[rowBwrap] = benchRow{lat: ms(40, 10, 25), latBack: ms(10, 10, 10), throughput: 6, cpu: cpuParts{all: 30 * time.Millisecond}}
	rows[rowSdRun] = benchRow{throughput: 2}
	out, _ := captureStdio(t, func() { printRatios(rows, 8, false) })
	for _, want := range []string{
		"| latency, settled (each run 50 ms after the last): sdbuild run / systemd-run --scope + bwrap, median of 3 pairs | 1.20 | ≤ 0.70 |",
		"| latency, back to back: sdbuild run / systemd-run --scope + bwrap, median of 3 pairs | 0.50 | ≤ 0.70 |",
		"| throughput, 8 clients: sdbuild run / systemd-run --scope | 1.50 | ≥ 1.50 |",
		"| throughput, 8 clients: sdbuild run / systemd-run --scope + bwrap | 0.50 | ≥ 1.50 |",
		"| CPU per run, 8 clients: systemd-run --scope + bwrap / sdbuild run | 0.50 | |",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("ratios lack %q:\n%s", want, out)
		}
	}
	// Runs that cannot be paired give no latency ratio.
	rows[rowBwrap].lat = ms(20, 40)
	rows[rowSdRun].skipped = "systemd-run not found"
	out, _ = captureStdio(t, func() { printRatios(rows, 8, true) })
	if strings.Contains(out, "settled") || strings.Contains(out, "| throughput, 8 clients: sdbuild run / systemd-run --user --scope |") || !strings.Contains(out, "back to back: sdbuild run / systemd-run --user --scope + bwrap") {
		t.Errorf("unpaired runs or a skipped peer still gave a ratio, or the user's peers are not named:\n%s", out)
	}
}
