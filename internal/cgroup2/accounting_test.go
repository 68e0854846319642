package cgroup2

import (
	"os"
	"path/filepath"
	"testing"
)

// This host's cgroup2 has neither the io nor the memory controller, so the
// files are tested as the kernel writes them.
func TestParseIOStat(t *testing.T) {
	for _, tt := range []struct {
		in          string
		read, write uint64
	}{
		{"", 0, 0},
		{"8:0 rbytes=1048576 wbytes=4096 rios=3 wios=1 dbytes=0 dios=0\n", 1048576, 4096},
		{"8:0 rbytes=100 wbytes=200 rios=1 wios=1 dbytes=0 dios=0\n253:0 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n", 101, 202},
		// A later kernel's key, a malformed value, a line without keys.
		{"8:0 rbytes=5 wbytes=x cost.usage=9\n8:16\n", 5, 0},
	} {
		r, w := ParseIOStat([]byte(tt.in))
		if r != tt.read || w != tt.write {
			t.Errorf("ParseIOStat(%q) = %d, %d; want %d, %d", tt.in, r, w, tt.read, tt.write)
		}
	}
}

// ReadStats reads every figure from a cgroup's files, and leaves 0 where a
// controller's file is missing.
func TestReadStatsDir(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"cpu.stat":    "usage_usec 1500\nuser_usec 1000\n",
		"memory.peak": "104857600\n",
		"pids.peak":   "17\n",
		"io.stat":     "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n",
	} {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	want := Stats{CPUUsec: 1500, MemoryPeak: 104857600, TasksPeak: 17, IOReadBytes: 4096, IOWriteBytes: 8192}
	if got := readStatsDir(dir); got != want {
		t.Errorf("readStatsDir = %+v, want %+v", got, want)
	}
	bare := t.TempDir()
	os.WriteFile(filepath.Join(bare, "cpu.stat"), []byte("usage_usec 7\n"), 0o644)
	if got := readStatsDir(bare); got != (Stats{CPUUsec: 7}) {
		t.Errorf("readStatsDir(no controllers) = %+v, want CPU only", got)
	}
}
