package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// benchCase is one way of running /bin/true that the benchmark times.
type benchCase struct {
	name string
	argv []string
	need string // a binary it needs, or "" when it is always available
}

// benchRow is what was measured for a case.
type benchRow struct {
	name           string
	lat            []time.Duration // in run order, one per round, each on a settled machine
	p50, p90, mean time.Duration
	// latBack are the daemon's and bwrap's runs as alternating pairs back
	// to back, in run order.
	latBack    []time.Duration
	p50Back    time.Duration
	throughput float64  // runs per second with the parallel clients
	cpu        cpuParts // CPU time per run with the parallel clients
	skipped    string
}

// cpuParts is CPU time per run, in all and by cgroup, read from cgroup2's
// cpu.stat: a figure that other machines' load on the host does not
// change, unlike wall time.
type cpuParts struct {
	all   time.Duration // the whole cgroup tree this process sees
	parts []time.Duration
}

// cpuPart is a part of the system whose CPU time is shown apart.
type cpuPart struct {
	name string
	rel  string // its cgroup, relative to the cgroup2 root
}

// benchParts are the parts a daemon build's CPU time is shown by: this
// command's own cgroup holds the clients it starts.
func benchParts(user bool) []cpuPart {
	own, _ := cgroup2.Own("self")
	if user {
		base := fmt.Sprintf("/user.slice/user-%d.slice/user@%d.service", os.Getuid(), os.Getuid())
		return []cpuPart{{"clients (sdbuild run)", own}, {"sdbuildd (and init until its scope)", base + "/app.slice/sdbuild.service"},
			{"builds (sdbuild.slice: init, builder)", base + "/sdbuild.slice"}, {"your systemd", base + "/init.scope"}}
	}
	return []cpuPart{{"clients (sdbuild run)", own}, {"sdbuildd (and init until its scope)", "/system.slice/sdbuild.service"},
		{"builds (sdbuild.slice: init, builder)", "/sdbuild.slice"}, {"systemd", "/init.scope"},
		{"dbus-daemon", "/system.slice/dbus.service"}, {"journald", "/system.slice/systemd-journald.service"}}
}

// readCPU reads the CPU time used so far by the whole tree ("/") and by parts.
func readCPU(parts []cpuPart) (all uint64, each []uint64) {
	all = cgroup2.ReadCPUUsec("/")
	for _, p := range parts {
		each = append(each, cgroup2.ReadCPUUsec(p.rel))
	}
	return all, each
}

// benchInputs are the inputs every sandboxed case gets: /bin/true and its
// libraries on a merged-/usr system.
var benchInputs = []string{"/usr", "/bin", "/lib", "/lib64"}

func newBenchCommand() *cobra.Command {
	var n, parallel int
	var local bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Time /bin/true builds through the daemon beside systemd-run --scope with bwrap, systemd-run and unshare",
		Long: `Runs /bin/true n times per case, one run at a time (latency). First n
alternating pairs of systemd-run --scope with bubblewrap and the daemon,
back to back, then n such pairs and n rounds of the other cases with each
run started 50 ms after the one before ended (settled: nothing another
run left to the kernel or systemd is still under way, as when a user
starts one build on an idle machine). The latency ratios compare the two
pair by pair, both ways. Then n times per case from parallel clients
(throughput). Every run is a new process, as a user would start it: a
build through the CLI and the daemon, systemd-run --scope -p
Delegate=yes bwrap with the same inputs, systemd-run --scope alone, a
bare unshare of the same namespaces, sdbuild --version (the CLI, a Go
program, starting and exiting alone: part of every build through it),
and with --local sdbuild run --local. Prints Markdown tables: the cases,
the ratios, and where the time of one daemon build goes by the daemon's
clock.`,
		Example: `  sdbuild bench
  sdbuild bench -n 50 --parallel 4 --local`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			// Against a user's own daemon, compare with the user's manager.
			user, err := userMode(cmd, true)
			if err != nil {
				return err
			}
			cases := benchCases(self, user, local)
			rows := runRounds(cases, n)
			parts := benchParts(user)
			for i := range rows {
				if rows[i].skipped == "" {
					rows[i].throughput, rows[i].cpu, rows[i].skipped = runParallel(cases[i], n, parallel, parts)
				}
			}
			printBench(rows, n, parallel)
			printRatios(rows, parallel, user)
			printCPU(rows[rowDaemon], parts, parallel)
			printPhases(self, n)
			return nil
		},
	}
	cmd.Flags().IntVarP(&n, "count", "n", 200, "runs per case, for latency and again for throughput")
	cmd.Flags().IntVar(&parallel, "parallel", 8, "parallel clients for throughput")
	cmd.Flags().BoolVar(&local, "local", false, "also time sdbuild run --local")
	return cmd
}

// The rows the ratios compare.
const (
	rowDaemon = iota
	rowBwrap
	rowSdRun
)

func benchCases(self string, user, local bool) []benchCase {
	in := func(flag string) []string {
		var a []string
		for _, i := range benchInputs {
			if flag == "--ro-bind" {
				a = append(a, flag, i, i)
			} else {
				a = append(a, flag, i)
			}
		}
		return a
	}
	daemonName, sdRun := "sdbuild run (daemon, scope, sandbox)", []string{"systemd-run", "--scope", "--quiet", "--collect"}
	if user {
		daemonName, sdRun = "sdbuild run (your own daemon, scope, sandbox)", []string{"systemd-run", "--user", "--scope", "--quiet", "--collect"}
	}
	bwrap := append(append([]string{"bwrap", "--unshare-all"}, in("--ro-bind")...), "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "/bin/true")
	cases := []benchCase{
		rowDaemon: {name: daemonName, argv: append(append([]string{self, "run"}, in("-i")...), "--", "/bin/true")},
		rowBwrap: {name: strings.Join(sdRun[:len(sdRun)-2], " ") + " -p Delegate=yes bwrap --unshare-all …",
			argv: append(append(append([]string(nil), sdRun...), "-p", "Delegate=yes"), bwrap...), need: "bwrap"},
		rowSdRun: {name: strings.Join(sdRun[:len(sdRun)-2], " ") + " /bin/true", argv: append(append([]string(nil), sdRun...), "/bin/true"), need: "systemd-run"},
	}
	if local {
		cases = append(cases, benchCase{name: "sdbuild run --local (sandbox, no scope)", argv: append(append([]string{self, "run", "--local"}, in("-i")...), "--", "/bin/true")})
	}
	return append(cases,
		benchCase{name: "unshare -Umpiun --fork /bin/true", argv: []string{"unshare", "-Umpiun", "--fork", "/bin/true"}, need: "unshare"},
		benchCase{name: "sdbuild --version (the CLI's start and exit alone)", argv: []string{self, "--version"}},
		benchCase{name: "/bin/true", argv: []string{"/bin/true"}},
	)
}

func runOnce(c benchCase) error {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", c.name, err, strings.Join(strings.Fields(string(out)), " "))
	}
	return nil
}

// benchSettle is the pause before each timed run of runRounds: by then
// what the run before left to the kernel and to systemd (the teardown of
// its namespaces and of its scope; the daemon's replacement of the
// prepared sandbox a build took) is done, so that no run pays for another.
const benchSettle = 50 * time.Millisecond

// runRounds times n alternating pairs of systemd-run with bwrap and the
// daemon, then n rounds of the other cases, one run at a time.
func runRounds(cases []benchCase, n int) []benchRow {
	rows := make([]benchRow, len(cases))
	for i, c := range cases {
		rows[i].name = c.name
		if c.need != "" {
			if _, err := exec.LookPath(c.need); err != nil {
				rows[i].skipped = c.need + " not found"
				continue
			}
		}
		if err := runOnce(c); err != nil { // warm up, and fail early
			rows[i].skipped = err.Error()
		}
	}
	// The pairs the latency ratios compare run alone, as the ratio is
	// defined: another case between them (a sandbox's network namespace
	// torn down, say) would weigh on one of the two more than the other.
	// Back to back, each run finds the kernel and systemd still busy with
	// the one before (and systemd's next cgroup move spared the RCU grace
	// period the last one waited for); settled, each finds them idle.
	pair := []int{rowBwrap, rowDaemon}
	var rest []int
	for i := range cases {
		if i != rowBwrap && i != rowDaemon {
			rest = append(rest, i)
		}
	}
	timed := func(order []int, settle time.Duration, lat func(*benchRow) *[]time.Duration) {
		for round := 0; round < n; round++ {
			for _, i := range order {
				if rows[i].skipped != "" {
					continue
				}
				time.Sleep(settle)
				start := time.Now()
				if err := runOnce(cases[i]); err != nil {
					rows[i].skipped = err.Error()
					continue
				}
				l := lat(&rows[i])
				*l = append(*l, time.Since(start))
			}
		}
	}
	back := func(r *benchRow) *[]time.Duration { return &r.latBack }
	settled := func(r *benchRow) *[]time.Duration { return &r.lat }
	timed(pair, 0, back)
	timed(pair, benchSettle, settled)
	timed(rest, benchSettle, settled)
	for i := range rows {
		r := &rows[i]
		if r.skipped != "" || len(r.lat) == 0 {
			continue
		}
		sorted := slices.Clone(r.lat)
		slices.Sort(sorted)
		var sum time.Duration
		for _, d := range sorted {
			sum += d
		}
		r.p50, r.p90, r.mean = sorted[len(sorted)/2], sorted[len(sorted)*9/10], sum/time.Duration(len(sorted))
		if len(r.latBack) > 0 {
			back := slices.Sorted(slices.Values(r.latBack))
			r.p50Back = back[len(back)/2]
		}
	}
	return rows
}

// runParallel runs c n times from parallel clients and returns runs per
// second and CPU time per run, or why it could not.
func runParallel(c benchCase, n, parallel int, parts []cpuPart) (float64, cpuParts, string) {
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	all0, each0 := readCPU(parts)
	start := time.Now()
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := runOnce(c); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	all1, each1 := readCPU(parts)
	if err, _ := failed.Load().(error); err != nil {
		return 0, cpuParts{}, err.Error()
	}
	perRun := func(a, b uint64) time.Duration {
		if b < a {
			return 0
		}
		return time.Duration(b-a) * time.Microsecond / time.Duration(n)
	}
	cpu := cpuParts{all: perRun(all0, all1)}
	for i := range parts {
		cpu.parts = append(cpu.parts, perRun(each0[i], each1[i]))
	}
	return float64(n) / wall.Seconds(), cpu, ""
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func printBench(rows []benchRow, n, parallel int) {
	fmt.Printf("| /bin/true, %d runs each | p50 ms | p90 ms | mean ms | p50 ms, back to back | runs/s, %d clients | CPU ms per run, %d clients |\n", n, parallel, parallel)
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, r := range rows {
		if r.skipped != "" {
			fmt.Printf("| %s | – | – | – | – | skipped: %s | – |\n", r.name, r.skipped)
			continue
		}
		cpu := "–" // no cgroup2 cpu.stat to read
		if r.cpu.all > 0 {
			cpu = ms(r.cpu.all)
		}
		back := "–"
		if r.p50Back > 0 {
			back = ms(r.p50Back)
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %.0f | %s |\n", r.name, ms(r.p50), ms(r.p90), ms(r.mean), back, r.throughput, cpu)
	}
}

// printCPU shows where a daemon build's CPU time goes, by cgroup.
func printCPU(r benchRow, parts []cpuPart, parallel int) {
	if r.skipped != "" || r.cpu.all == 0 {
		return
	}
	fmt.Println()
	fmt.Printf("| CPU time of one daemon build, %d clients, by cgroup | ms |\n", parallel)
	fmt.Println("|---|---|")
	var sum time.Duration
	for i, p := range parts {
		fmt.Printf("| %s | %s |\n", p.name, ms(r.cpu.parts[i]))
		sum += r.cpu.parts[i]
	}
	fmt.Printf("| everything else | %s |\n", ms(max(r.cpu.all-sum, 0)))
	fmt.Printf("| all | %s |\n", ms(r.cpu.all))
}

// printRatios compares the daemon with its peers: latency as the median of
// the per-round ratios (both ran within the same round, under the same
// load), throughput as the ratio of runs per second, CPU time as the ratio
// of CPU time per run. The issue that set the goals names systemd-run
// --scope for throughput; with bwrap it is the same work as a build.
func printRatios(rows []benchRow, parallel int, user bool) {
	d, b, s := rows[rowDaemon], rows[rowBwrap], rows[rowSdRun]
	sdRun := "systemd-run --scope"
	if user {
		sdRun = "systemd-run --user --scope"
	}
	bwrap := sdRun + " + bwrap"
	fmt.Println()
	fmt.Println("| ratio | measured | goal |")
	fmt.Println("|---|---|---|")
	settled := fmt.Sprintf("settled (each run %d ms after the last)", benchSettle.Milliseconds())
	for _, l := range []struct {
		how  string
		d, b []time.Duration
	}{{settled, d.lat, b.lat}, {"back to back", d.latBack, b.latBack}} {
		if d.skipped != "" || b.skipped != "" || len(l.d) != len(l.b) || len(l.d) == 0 {
			continue
		}
		r := make([]float64, len(l.d))
		for i := range l.d {
			r[i] = float64(l.d[i]) / float64(l.b[i])
		}
		slices.Sort(r)
		fmt.Printf("| latency, %s: sdbuild run / %s, median of %d pairs | %.2f | ≤ 0.70 |\n", l.how, bwrap, len(r), r[len(r)/2])
	}
	if d.skipped == "" && s.skipped == "" && s.throughput > 0 {
		fmt.Printf("| throughput, %d clients: sdbuild run / %s | %.2f | ≥ 1.50 |\n", parallel, sdRun, d.throughput/s.throughput)
	}
	if d.skipped == "" && b.skipped == "" && b.throughput > 0 {
		fmt.Printf("| throughput, %d clients: sdbuild run / %s | %.2f | ≥ 1.50 |\n", parallel, bwrap, d.throughput/b.throughput)
	}
	if d.skipped == "" && b.skipped == "" && d.cpu.all > 0 && b.cpu.all > 0 {
		fmt.Printf("| CPU per run, %d clients: %s / sdbuild run | %.2f | |\n", parallel, bwrap, float64(b.cpu.all)/float64(d.cpu.all))
	}
}

// printPhases runs n builds through the daemon with --json, one after
// another, and prints the median of each phase the daemon recorded, and
// the rest of the client's wall time: starting the client, reading its
// configuration, connecting, and storing the final record.
func printPhases(self string, n int) {
	type sample struct {
		wall   time.Duration
		phases []api.Phase
	}
	var samples []sample
	argv := []string{"run", "--json"}
	for _, i := range benchInputs {
		argv = append(argv, "-i", i)
	}
	argv = append(argv, "--", "/bin/true")
	for i := 0; i < n; i++ {
		start := time.Now()
		out, err := exec.Command(self, argv...).Output()
		wall := time.Since(start)
		var b api.Build
		if err == nil {
			err = json.Unmarshal(out, &b)
		}
		if err != nil {
			fmt.Printf("\nno phases: sdbuild run --json: %v\n", err)
			return
		}
		if len(b.Phases) == 0 {
			fmt.Println("\nno phases: the daemon records none (an older sdbuildd?)")
			return
		}
		samples = append(samples, sample{wall, b.Phases})
	}
	// Phases in the order the first build had them.
	var names []string
	for _, p := range samples[0].phases {
		names = append(names, p.Name)
	}
	median := func(f func(s sample) (float64, bool)) float64 {
		var v []float64
		for _, s := range samples {
			if x, ok := f(s); ok {
				v = append(v, x)
			}
		}
		if len(v) == 0 {
			return 0
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	fmt.Println()
	fmt.Printf("| one daemon build, phase (median of %d) | ms |\n", n)
	fmt.Println("|---|---|")
	for _, name := range names {
		fmt.Printf("| %s | %.2f |\n", name, median(func(s sample) (float64, bool) {
			for _, p := range s.phases {
				if p.Name == name {
					return p.Ms, true
				}
			}
			return 0, false
		}))
	}
	summed := func(s sample) float64 {
		var t float64
		for _, p := range s.phases {
			if !strings.Contains(p.Name, "not summed") {
				t += p.Ms
			}
		}
		return t
	}
	fmt.Printf("| daemon, request to final record | %.2f |\n", median(func(s sample) (float64, bool) { return summed(s), true }))
	fmt.Printf("| client: start, config, connect, exit; final record stored | %.2f |\n", median(func(s sample) (float64, bool) {
		return float64(s.wall.Microseconds())/1000 - summed(s), true
	}))
	fmt.Printf("| whole client process | %.2f |\n", median(func(s sample) (float64, bool) { return float64(s.wall.Microseconds()) / 1000, true }))
}
