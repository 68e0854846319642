package outputs

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/internal/testutil"
)

// BenchmarkCopy copies a tree of 1000 small files in 10 directories, the
// shape of a typical package output.
func BenchmarkCopy(b *testing.B) {
	testutil.RequireRoot(b, "Copy chowns every inode to an arbitrary uid")
	const dirs, perDir = 10, 100
	src := filepath.Join(b.TempDir(), "out")
	content := strings.Repeat("x", 1024)
	for d := range dirs {
		for f := range perDir {
			writeFile(b, filepath.Join(src, fmt.Sprintf("d%d/f%d", d, f)), content, 0o644)
		}
	}
	parent := ownerDir(b)
	for i := 0; b.Loop(); i++ {
		dst := filepath.Join(parent, fmt.Sprintf("result%d", i))
		if err := Copy(src, dst, testOwner); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := Remove(dst); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(dirs*perDir*b.N)/b.Elapsed().Seconds(), "files/s")
}
