package config

import (
	"errors"
	"io"
	"io/fs"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParseNixConf(t *testing.T) {
	conf := "# Nix's configuration\n" +
		"auto-allocate-uids = false\n" +
		"start-id = 100   # a comment after the value\n" +
		"\tid-count\t=\t65536\n" +
		"experimental-features = nix-command auto-allocate-uids\n" +
		"auto-allocate-uids = true\n" + // a later line wins
		"sandbox=true\n" + // no blanks: Nix refuses it, we skip it
		"include extra.conf\n" +
		"!include /etc/nix/optional.conf\n" +
		"include a b\n" + // three tokens: not an include
		"#start-id = 7\n" +
		"empty ="
	settings := map[string]nixSetting{}
	var includes []string
	err := parseNixConf(strings.NewReader(conf), "/etc/nix/nix.conf", settings, func(p string) error {
		includes = append(includes, p)
		return nil
	})
	if err != nil {
		t.Fatalf("parseNixConf() = %v", err)
	}
	want := map[string]nixSetting{
		"auto-allocate-uids":    {"true", "/etc/nix/nix.conf", 6},
		"start-id":              {"100", "/etc/nix/nix.conf", 3},
		"id-count":              {"65536", "/etc/nix/nix.conf", 4},
		"experimental-features": {"nix-command auto-allocate-uids", "/etc/nix/nix.conf", 5},
		"empty":                 {"", "/etc/nix/nix.conf", 12},
	}
	if !reflect.DeepEqual(settings, want) {
		t.Errorf("parseNixConf() settings = %v, want %v", settings, want)
	}
	if wantInc := []string{"extra.conf", "/etc/nix/optional.conf"}; !reflect.DeepEqual(includes, wantInc) {
		t.Errorf("parseNixConf() includes = %q, want %q", includes, wantInc)
	}
}

// fakeFiles opens the files of a map; any other path does not exist.
func fakeFiles(files map[string]string) func(string) (io.ReadCloser, error) {
	return func(p string) (io.ReadCloser, error) {
		s, ok := files[p]
		if !ok {
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		}
		return io.NopCloser(strings.NewReader(s)), nil
	}
}

func TestReadNixConf(t *testing.T) {
	for _, tt := range []struct {
		name    string
		files   map[string]string
		want    map[string]string // setting → "value@file:line"
		wantErr string
	}{
		{name: "no nix.conf", files: map[string]string{}, want: map[string]string{}},
		{
			name: "relative include, read in place",
			files: map[string]string{
				"/etc/nix/nix.conf":    "start-id = 1\ninclude local.conf\nid-count = 3\n",
				"/etc/nix/local.conf":  "start-id = 2\nid-count = 2\nauto-allocate-uids = true\n",
				"/etc/nix/unused.conf": "start-id = 9\n",
			},
			want: map[string]string{
				"start-id":           "2@/etc/nix/local.conf:1",
				"id-count":           "3@/etc/nix/nix.conf:3",
				"auto-allocate-uids": "true@/etc/nix/local.conf:3",
			},
		},
		{
			name: "missing includes hold nothing",
			files: map[string]string{
				"/etc/nix/nix.conf": "include gone.conf\n!include /nowhere.conf\nauto-allocate-uids = true\n",
			},
			want: map[string]string{"auto-allocate-uids": "true@/etc/nix/nix.conf:3"},
		},
		{
			name:    "include cycle ends",
			files:   map[string]string{"/etc/nix/nix.conf": "include nix.conf\n"},
			wantErr: "includes nested deeper than 16",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			settings, err := readNixConf("/etc/nix/nix.conf", fakeFiles(tt.files))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("readNixConf() = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("readNixConf() = %v", err)
			}
			got := map[string]string{}
			for k, s := range settings {
				got[k] = s.value + "@" + s.file + ":" + strconv.Itoa(s.line)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("readNixConf() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNixRangeOf(t *testing.T) {
	at := func(v string, line int) nixSetting { return nixSetting{v, "/etc/nix/nix.conf", line} }
	for _, tt := range []struct {
		name         string
		settings     map[string]nixSetting
		on           bool
		start, count uint64
		wantErr      string
	}{
		{name: "nothing set", settings: map[string]nixSetting{}, start: 872415232, count: 8388608},
		{name: "on, Nix's defaults", settings: map[string]nixSetting{"auto-allocate-uids": at("true", 1)},
			on: true, start: 872415232, count: 8388608},
		{name: "yes and 1 are true", settings: map[string]nixSetting{"auto-allocate-uids": at("yes", 1)},
			on: true, start: 872415232, count: 8388608},
		{name: "off", settings: map[string]nixSetting{"auto-allocate-uids": at("no", 1), "start-id": at("x", 2)},
			start: 872415232, count: 8388608},
		{name: "on, set", settings: map[string]nixSetting{
			"auto-allocate-uids": at("1", 1), "start-id": at("3221225472", 2), "id-count": at("131072", 3)},
			on: true, start: 3221225472, count: 131072},
		{name: "not a boolean", settings: map[string]nixSetting{"auto-allocate-uids": at("on", 4)},
			wantErr: `read /etc/nix/nix.conf line 4: auto-allocate-uids "on" is not a boolean`},
		{name: "bad numbers when on", settings: map[string]nixSetting{
			"auto-allocate-uids": at("true", 1), "start-id": at("0x34000000", 2), "id-count": at("-1", 3)},
			wantErr: `read /etc/nix/nix.conf line 2: start-id "0x34000000" is not an unsigned 32-bit integer` + "\n" +
				`read /etc/nix/nix.conf line 3: id-count "-1" is not an unsigned 32-bit integer`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := nixRangeOf(tt.settings)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, ErrMalformedIDFile) {
					t.Fatalf("nixRangeOf() = %v, want %q (ErrMalformedIDFile)", err, tt.wantErr)
				}
				return
			}
			if err != nil || r.on != tt.on || r.start != tt.start || r.count != tt.count {
				t.Errorf("nixRangeOf() = on %v, %d+%d, %v; want on %v, %d+%d", r.on, r.start, r.count, err, tt.on, tt.start, tt.count)
			}
		})
	}
}

func TestNixSlots(t *testing.T) {
	got := nixSlots([]string{"slot-12", "slot-0", "slot-", "slot-x", "slot--1", "other", "slot-4294967296"})
	if want := []uint64{0, 12}; !reflect.DeepEqual(got, want) {
		t.Errorf("nixSlots() = %v, want %v", got, want)
	}
}
