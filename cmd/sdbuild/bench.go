package main

import (
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
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
	p50, p90, mean time.Duration
	throughput     float64 // runs per second with the parallel clients
	skipped        string
}

func newBenchCommand() *cobra.Command {
	var n, parallel int
	var local bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Time /bin/true builds through the daemon beside systemd-run --scope and unshare",
		Long: `Runs /bin/true n times one after another (latency) and n times from
parallel clients (throughput): as a build through the CLI and the daemon
(each run a new sdbuild process, as a user would run it), and for
comparison as systemd-run --scope, as a bare unshare of the same
namespaces, and with --local as sdbuild run --local. Prints a Markdown table.`,
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
			daemonName, sdRunName := "sdbuild run (daemon, scope, sandbox)", "systemd-run --scope /bin/true"
			sdRun := []string{"systemd-run", "--scope", "--quiet", "--collect", "/bin/true"}
			if user {
				daemonName, sdRunName = "sdbuild run (your own daemon, scope, sandbox)", "systemd-run --user --scope /bin/true"
				sdRun = []string{"systemd-run", "--user", "--scope", "--quiet", "--collect", "/bin/true"}
			}
			cases := []benchCase{
				{name: daemonName, argv: []string{self, "run", "-i", "/usr", "-i", "/bin", "-i", "/lib", "-i", "/lib64", "--", "/bin/true"}},
			}
			if local {
				cases = append(cases, benchCase{name: "sdbuild run --local (sandbox, no scope)", argv: []string{self, "run", "--local", "-i", "/usr", "-i", "/bin", "-i", "/lib", "-i", "/lib64", "--", "/bin/true"}})
			}
			cases = append(cases,
				benchCase{name: sdRunName, argv: sdRun, need: "systemd-run"},
				benchCase{name: "unshare -Umpiun --fork /bin/true", argv: []string{"unshare", "-Umpiun", "--fork", "/bin/true"}, need: "unshare"},
				benchCase{name: "/bin/true", argv: []string{"/bin/true"}},
			)
			var rows []benchRow
			for _, c := range cases {
				rows = append(rows, runBench(c, n, parallel))
			}
			printBench(rows, n, parallel)
			return nil
		},
	}
	cmd.Flags().IntVarP(&n, "count", "n", 200, "runs per case, for latency and again for throughput")
	cmd.Flags().IntVar(&parallel, "parallel", 8, "parallel clients for throughput")
	cmd.Flags().BoolVar(&local, "local", false, "also time sdbuild run --local")
	return cmd
}

func runBench(c benchCase, n, parallel int) benchRow {
	row := benchRow{name: c.name}
	if c.need != "" {
		if _, err := exec.LookPath(c.need); err != nil {
			row.skipped = c.need + " not found"
			return row
		}
	}
	once := func() error {
		cmd := exec.Command(c.argv[0], c.argv[1:]...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", c.name, err, strings.Join(strings.Fields(string(out)), " "))
		}
		return nil
	}
	if err := once(); err != nil { // warm up, and fail early
		row.skipped = err.Error()
		return row
	}
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := once(); err != nil {
			row.skipped = err.Error()
			return row
		}
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	row.p50, row.p90, row.mean = lat[len(lat)/2], lat[len(lat)*9/10], sum/time.Duration(len(lat))

	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := once(); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		row.skipped = err.Error()
		return row
	}
	row.throughput = float64(n) / time.Since(start).Seconds()
	return row
}

func printBench(rows []benchRow, n, parallel int) {
	fmt.Printf("| /bin/true, %d runs each | p50 ms | p90 ms | mean ms | runs/s, %d clients |\n", n, parallel)
	fmt.Println("|---|---|---|---|---|")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	for _, r := range rows {
		if r.skipped != "" {
			fmt.Printf("| %s | – | – | – | skipped: %s |\n", r.name, r.skipped)
			continue
		}
		fmt.Printf("| %s | %s | %s | %s | %.0f |\n", r.name, ms(r.p50), ms(r.p90), ms(r.mean), r.throughput)
	}
}
