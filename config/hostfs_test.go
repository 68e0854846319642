package config

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// countingFS is osFS that counts the reads of each path.
type countingFS map[string]int

func (c countingFS) Open(path string) (io.ReadCloser, error) {
	c[path]++
	return osFS{}.Open(path)
}

func (c countingFS) ReadDir(path string) ([]fs.DirEntry, error) {
	c[path]++
	return osFS{}.ReadDir(path)
}

func (c countingFS) Lstat(path string) (fs.FileInfo, error) {
	c[path]++
	return osFS{}.Lstat(path)
}

// TestReviewHostIDsReadsOnce checks that ReviewHostIDs, which gives
// doctor both the refusal and the warnings, reads each file once.
func TestReviewHostIDsReadsOnce(t *testing.T) {
	src := hostIDFiles(t, "root:x:0:0:root:/root:/bin/sh\n", "root:x:0:\n", "alice:100000:65536\n", "alice:100000:65536\n")
	machine := filepath.Join(filepath.Dir(src.NixConf), "machine.conf")
	for path, content := range map[string]string{src.NixConf: "include machine.conf\n", machine: "auto-allocate-uids = false\n", src.NSResourceSocket: ""} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(src.NixUserPool, 0o755); err != nil {
		t.Fatal(err)
	}
	rootless := Defaults()
	rootless.Rootless = &Rootless{Account: Account{Name: "alice", UID: 1000},
		SubUID: SubIDRange{Start: 100000, Count: 65536}, SubGID: SubIDRange{Start: 100000, Count: 65536}}
	rootless.StartID, rootless.IDCount = 100000, 65536
	for _, tt := range []struct {
		name string
		c    Config
		want []string
	}{
		{"system", Defaults(), []string{src.Passwd, src.Group, src.SubUID, src.SubGID, src.NixConf, machine, src.NixUserPool, src.NSResourceSocket}},
		{"a user's own", rootless, []string{src.Passwd, src.Group}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reads := countingFS{}
			if r := tt.c.reviewHostIDs(src, reads); r.Err != nil {
				t.Fatalf("reviewHostIDs() = %v, want no error", r.Err)
			}
			for _, p := range tt.want {
				if reads[p] != 1 {
					t.Errorf("reviewHostIDs read %s %d times, want once", p, reads[p])
				}
			}
			if len(reads) != len(tt.want) {
				t.Errorf("reviewHostIDs read %v, want only %q", reads, tt.want)
			}
		})
	}
}
