package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// idFile returns an IDFile reading content, or nil for "-".
func idFile(name, content string) *IDFile {
	if content == "-" {
		return nil
	}
	return &IDFile{Name: name, R: strings.NewReader(content)}
}

func TestCheckIDRange(t *testing.T) {
	// The range under test is 872415232-872546303: two slots of 65536.
	const start, count = 872415232, 131072
	const header = "root:x:0:0:root:/root:/bin/bash\n# a comment\n\n"
	tests := []struct {
		name                          string
		passwd, group, subuid, subgid string // "-" means no file
		want                          []string
		wantIs                        error
	}{
		{
			name:   "clean host",
			passwd: header + "alice:x:1000:1000::/home/alice:/bin/sh\n",
			group:  "root:x:0:\nalice:x:1000:\n",
			subuid: "alice:100000:65536\n",
			subgid: "alice:100000:65536\n",
		},
		{name: "no files", passwd: "-", group: "-", subuid: "-", subgid: "-"},
		{
			name:   "uid at start",
			passwd: header + "alice:x:872415232:100::/:/bin/sh\n",
			group:  "-", subuid: "-", subgid: "-",
			want:   []string{`id range 872415232-872546303 (start-id 872415232, id-count 131072) overlaps user "alice" (uid 872415232) in /etc/passwd line 4; choose a start-id outside it`},
			wantIs: ErrIDOverlap,
		},
		{
			name:   "uid at last id",
			passwd: "bob:x:872546303:100::/:/bin/sh",
			group:  "-", subuid: "-", subgid: "-",
			want:   []string{`overlaps user "bob" (uid 872546303) in /etc/passwd line 1;`},
			wantIs: ErrIDOverlap,
		},
		{
			name:   "uids just outside",
			passwd: "a:x:872415231:100::/:/bin/sh\nb:x:872546304:100::/:/bin/sh\n",
			group:  "-", subuid: "-", subgid: "-",
		},
		{
			name:   "primary gid inside",
			passwd: "carol:x:1000:872415300::/:/bin/sh\n",
			group:  "-", subuid: "-", subgid: "-",
			want:   []string{`overlaps user "carol" (primary gid 872415300) in /etc/passwd line 1;`},
			wantIs: ErrIDOverlap,
		},
		{
			name:   "gid at start and at last id",
			passwd: "-",
			group:  "root:x:0:\nbuilders:x:872415232:alice,bob\nlast:x:872546303:\n",
			subuid: "-", subgid: "-",
			want: []string{
				`overlaps group "builders" (gid 872415232) in /etc/group line 2;`,
				`overlaps group "last" (gid 872546303) in /etc/group line 3;`,
			},
			wantIs: ErrIDOverlap,
		},
		{
			name:   "gids just outside",
			passwd: "-",
			group:  "a:x:872415231:\nb:x:872546304:\n",
			subuid: "-", subgid: "-",
		},
		{
			name:   "subuid range ending at start",
			passwd: "-", group: "-", subgid: "-",
			subuid: "alice:872349696:65537\n",
			want:   []string{`id range 872415232-872546303 (start-id 872415232, id-count 131072) overlaps subordinate uids 872349696-872415232 of "alice" in /etc/subuid line 1; choose a start-id outside it`},
			wantIs: ErrIDOverlap,
		},
		{
			name:   "subuid range ending just before start",
			passwd: "-", group: "-", subgid: "-",
			subuid: "alice:872349696:65536\n",
		},
		{
			name:   "subuid range starting at last id",
			passwd: "-", group: "-", subgid: "-",
			subuid: "alice:872546303:65536\n",
			want:   []string{`overlaps subordinate uids 872546303-872611838 of "alice" in /etc/subuid line 1;`},
			wantIs: ErrIDOverlap,
		},
		{
			name:   "subuid range starting just after",
			passwd: "-", group: "-", subgid: "-",
			subuid: "alice:872546304:65536\n",
		},
		{
			name:   "subuid range containing the whole range",
			passwd: "-", group: "-", subgid: "-",
			subuid: "alice:100000:1000000000\n",
			want:   []string{`overlaps subordinate uids 100000-1000099999 of "alice" in /etc/subuid line 1;`},
			wantIs: ErrIDOverlap,
		},
		{
			name:   "subuid empty range at start",
			passwd: "-", group: "-", subgid: "-",
			subuid: "alice:872415232:0\n",
		},
		{
			name:   "subgid numeric owner",
			passwd: "-", group: "-", subuid: "-",
			subgid: "# delegated\n\n1000:872480768:65536\n",
			want:   []string{`overlaps subordinate gids 872480768-872546303 of "1000" in /etc/subgid line 3;`},
			wantIs: ErrIDOverlap,
		},
		{
			name:   "comments, NIS lines, CRLF, no final newline",
			passwd: "  # indented comment\r\n+@netgroup::::::\r\n-baduser::::::\r\nalice:x:1000:1000::/:/bin/sh",
			group:  "+:::\n", subuid: "\n\n", subgid: "",
		},
		{
			name:   "malformed passwd",
			passwd: "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000\nbob:x:abc:1000::/:/bin/sh\neve:x:-1:1::/:/bin/sh\n",
			group:  "-", subuid: "-", subgid: "-",
			want: []string{
				"read /etc/passwd line 2: want 7 fields (name:password:uid:gid:gecos:home:shell), got 4",
				`read /etc/passwd line 3: uid "abc" is not an unsigned 32-bit integer`,
				`read /etc/passwd line 4: uid "-1" is not an unsigned 32-bit integer`,
			},
			wantIs: ErrMalformedIDFile,
		},
		{
			name:   "malformed group",
			passwd: "-",
			group:  "wheel:x:10:root\nbig:x:4294967296:\nshort:x\n",
			subuid: "-", subgid: "-",
			want: []string{
				`read /etc/group line 2: gid "4294967296" is not an unsigned 32-bit integer`,
				"read /etc/group line 3: want 4 fields (name:password:gid:members), got 2",
			},
			wantIs: ErrMalformedIDFile,
		},
		{
			name:   "malformed subuid and subgid",
			passwd: "-", group: "-",
			subuid: "alice:100000\n",
			subgid: "alice:100000:lots\nalice:+1:1\n",
			want: []string{
				"read /etc/subuid line 1: want 3 fields (name:start:count), got 2",
				`read /etc/subgid line 1: count "lots" is not an unsigned 32-bit integer`,
				`read /etc/subgid line 2: start "+1" is not an unsigned 32-bit integer`,
			},
			wantIs: ErrMalformedIDFile,
		},
		{
			name:   "malformed line and overlap both reported",
			passwd: "alice:x:872415232:1::/:/bin/sh\n",
			group:  "broken\n",
			subuid: "-", subgid: "-",
			want: []string{
				"read /etc/group line 1: want 4 fields",
				`overlaps user "alice" (uid 872415232)`,
			},
			wantIs: ErrMalformedIDFile,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckIDRange(start, count,
				idFile("/etc/passwd", tt.passwd), idFile("/etc/group", tt.group),
				idFile("/etc/subuid", tt.subuid), idFile("/etc/subgid", tt.subgid))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("CheckIDRange() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckIDRange() = nil, want %q", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("CheckIDRange() = %q, want %d errors %q", err, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("CheckIDRange() error %d = %q, want it to contain %q", i, lines[i], w)
				}
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("CheckIDRange() = %v, want %v", err, tt.wantIs)
			}
		})
	}
}

func TestCheckIDRangeLongLine(t *testing.T) {
	// A group with many members is longer than bufio.Scanner's 64 KiB limit.
	members := strings.Repeat("someuser,", 20000)
	group := "big:x:872415232:" + members + "last\n"
	err := CheckIDRange(872415232, 65536, nil, idFile("/etc/group", group), nil, nil)
	if !errors.Is(err, ErrIDOverlap) {
		t.Errorf("CheckIDRange() = %v, want ErrIDOverlap", err)
	}
}

func TestCheckIDRangeReadError(t *testing.T) {
	boom := errors.New("boom")
	f := &IDFile{Name: "/etc/group", R: iotest.ErrReader(boom)}
	err := CheckIDRange(872415232, 65536, nil, f, nil, nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "read /etc/group: boom") {
		t.Errorf("CheckIDRange() = %v, want read /etc/group: boom", err)
	}
}

// hostIDFiles returns sources in a temporary directory holding the given
// contents; "" leaves a file out. Nix's and systemd's paths lead nowhere.
func hostIDFiles(t *testing.T, passwd, group, subuid, subgid string) HostIDSources {
	t.Helper()
	dir := t.TempDir()
	paths := [4]string{}
	for i, content := range []string{passwd, group, subuid, subgid} {
		paths[i] = filepath.Join(dir, [...]string{"passwd", "group", "subuid", "subgid"}[i])
		if content == "" {
			continue
		}
		if err := os.WriteFile(paths[i], []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return HostIDSources{Passwd: paths[0], Group: paths[1], SubUID: paths[2], SubGID: paths[3],
		NixConf: filepath.Join(dir, "nix.conf"), NixUserPool: filepath.Join(dir, "userpool2"),
		NSResourceSocket: filepath.Join(dir, "io.systemd.NamespaceResource")}
}

func TestCheckHostIDsFiles(t *testing.T) {
	const passwd = "root:x:0:0:root:/root:/bin/bash\n"
	const group = "root:x:0:\n"
	tests := []struct {
		name                          string
		passwd, group, subuid, subgid string
		wantIs                        error // nil means no error
		wantSub                       string
	}{
		{name: "no subuid or subgid", passwd: passwd, group: group},
		{name: "subuid clash", passwd: passwd, group: group, subuid: "alice:2013265920:65536\n",
			wantIs: ErrIDOverlap, wantSub: `subordinate uids 2013265920-2013331455 of "alice" in `},
		{name: "subgid clash", passwd: passwd, group: group, subgid: "alice:2021654527:1\n",
			wantIs: ErrIDOverlap, wantSub: `subordinate gids 2021654527-2021654527 of "alice" in `},
		{name: "missing passwd", group: group, wantIs: fs.ErrNotExist, wantSub: "check host ids: open "},
		{name: "missing group", passwd: passwd, wantIs: fs.ErrNotExist, wantSub: "check host ids: open "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := hostIDFiles(t, tt.passwd, tt.group, tt.subuid, tt.subgid)
			c := Defaults()
			err := c.CheckHostIDsAt(src)
			if tt.wantIs == nil {
				if err != nil {
					t.Fatalf("CheckHostIDs() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("CheckHostIDs() = %v, want %v containing %q", err, tt.wantIs, tt.wantSub)
			}
		})
	}
}

// TestCheckHostIDsThisMachine checks the defaults against this machine's
// real id databases.
func TestCheckHostIDsThisMachine(t *testing.T) {
	c := Defaults()
	if err := c.CheckHostIDs(); err != nil {
		t.Errorf("CheckHostIDs() with defaults = %v, want nil", err)
	}
}
