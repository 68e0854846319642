package slots

import (
	"os"
	"testing"
)

// BenchmarkAcquireRelease measures the common path: a slot with a clean
// record is leased and released (open, flock, read, two record writes,
// close).
func BenchmarkAcquireRelease(b *testing.B) {
	dirs := map[string]string{"dir=tempdir": b.TempDir()}
	// tmpfs shows what the temp dir's file system itself costs.
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "sdbuild-slots-bench-")
		if err == nil {
			b.Cleanup(func() { os.RemoveAll(d) })
			dirs["dir=tmpfs"] = d
		}
	}
	for name, dir := range dirs {
		b.Run(name, func(b *testing.B) {
			p, err := Open(Options{Dir: dir + "/userpool", StartID: testStartID, IDsPerBuild: 65536, Slots: 128})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			b.ReportAllocs()
			for b.Loop() {
				l, err := p.Acquire("bench")
				if err != nil {
					b.Fatal(err)
				}
				if err := l.Release(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAcquireReleaseParallel has many goroutines lease and release at
// once, as a daemon running parallel builds does.
func BenchmarkAcquireReleaseParallel(b *testing.B) {
	p, err := Open(Options{Dir: b.TempDir() + "/userpool", StartID: testStartID, IDsPerBuild: 65536, Slots: 128})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l, err := p.Acquire("bench")
			if err != nil {
				b.Error(err)
				return
			}
			if err := l.Release(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
