package sandbox

import (
	"io"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// BenchmarkPreparedTrue times a prepared sandbox's build of /bin/true from
// Fill to its result (what a build waits for once its sandbox is
// prepared), and from Go to the result.
func BenchmarkPreparedTrue(b *testing.B) {
	testutil.RequireRoot(b, "spawns sandbox init")
	var fill, run time.Duration
	for i := 0; i < b.N; i++ {
		dir := b.TempDir() + "/b"
		if err := PrepareDir(dir); err != nil {
			b.Fatal(err)
		}
		p, err := SpawnPrepared(&Spec{BuildID: "bench", Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		go io.Copy(io.Discard, p.Log)
		if err := p.Ready(); err != nil {
			b.Fatal(err)
		}
		s := &Spec{BuildID: "bench", Dir: dir, Args: []string{"/bin/true"}, Inputs: baseInputs, HostID: testHostID, IDCount: 1}
		t0 := time.Now()
		if err := p.Fill(s); err != nil {
			b.Fatal(err)
		}
		if err := p.Ready(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := p.Go(); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Result(); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		fill += t1.Sub(t0)
		run += t2.Sub(t1)
		p.Wait()
	}
	b.ReportMetric(float64(fill.Microseconds())/float64(b.N)/1000, "fill-ms/op")
	b.ReportMetric(float64(run.Microseconds())/float64(b.N)/1000, "run-ms/op")
}
