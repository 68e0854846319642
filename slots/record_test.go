package slots

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	recs := []Record{
		{},
		{BuildID: "b1", State: StateHeld, Since: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)},
		{BuildID: "b2", State: StateReleased, Since: time.Unix(1700000000, 0).UTC(), PID: 4711, PIDStart: 123456,
			Unit: "sdbuild-b2.scope", Cgroup: "/sdbuild.slice/sdbuild-b2.scope", Quarantine: "pid 4711 survived SIGKILL for 5s"},
		{BuildID: "quote\"and\nnewline", State: StateHeld},
	}
	for _, want := range recs {
		if want.State == "" {
			want.State = StateHeld
		}
		b, err := encodeRecord(want)
		if err != nil {
			t.Fatalf("encodeRecord(%+v): %v", want, err)
		}
		if strings.Count(string(b), "\n") != 1 || !strings.HasSuffix(string(b), "\n") {
			t.Errorf("encodeRecord(%+v) = %q, want exactly one line", want, b)
		}
		got, err := decodeRecord(b)
		if err != nil {
			t.Fatalf("decodeRecord(%q): %v", b, err)
		}
		if !got.Since.Equal(want.Since) {
			t.Errorf("decodeRecord(%q).Since = %v, want %v", b, got.Since, want.Since)
		}
		got.Since, want.Since = time.Time{}, time.Time{}
		if got != want {
			t.Errorf("decodeRecord(%q) = %+v, want %+v", b, got, want)
		}
	}
}

func TestDecodeRecord(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantBuild string
		wantState string
		bad       bool
	}{
		{"empty", "", "", "", false},
		{"blank line", "  \n", "", "", false},
		{"held", `{"build_id":"a","state":"held"}` + "\n", "a", StateHeld, false},
		{"released", `{"build_id":"a","state":"released"}` + "\n", "a", StateReleased, false},
		{"no newline", `{"build_id":"a","state":"held"}`, "a", StateHeld, false},
		// A crash between pwrite and ftruncate leaves the old record's tail.
		{"stale tail after newline", `{"build_id":"new","state":"released"}` + "\n" + `ld.slice/x.scope"}` + "\n", "new", StateReleased, false},
		{"unknown field ignored", `{"build_id":"a","state":"held","future":1}`, "a", StateHeld, false},
		{"garbage", "not json\n", "", "", true},
		{"truncated", `{"build_id":"a","sta`, "", "", true},
		{"unknown state", `{"build_id":"a","state":"leased"}`, "", "", true},
		{"missing state", `{"build_id":"a"}`, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := decodeRecord([]byte(tt.in))
			if tt.bad {
				if !errors.Is(err, ErrBadRecord) {
					t.Fatalf("decodeRecord(%q) = %+v, %v; want ErrBadRecord", tt.in, r, err)
				}
				return
			}
			if err != nil || r.BuildID != tt.wantBuild || r.State != tt.wantState {
				t.Fatalf("decodeRecord(%q) = %+v, %v; want build %q state %q", tt.in, r, err, tt.wantBuild, tt.wantState)
			}
		})
	}
}

func TestRecordClean(t *testing.T) {
	tests := []struct {
		state string
		want  bool
	}{{StateReleased, true}, {StateHeld, false}, {"", false}}
	for _, tt := range tests {
		if got := (Record{State: tt.state}).clean(); got != tt.want {
			t.Errorf("Record{State: %q}.clean() = %v, want %v", tt.state, got, tt.want)
		}
	}
}

func TestReadRecord(t *testing.T) {
	dir := t.TempDir()
	want := Record{BuildID: "b", State: StateHeld, PID: 7, PIDStart: 9}
	b, _ := encodeRecord(want)
	files := map[string]string{"good": string(b), "empty": "", "bad": "{"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := ReadRecord(filepath.Join(dir, "good")); err != nil || got != want {
		t.Errorf("ReadRecord(good) = %+v, %v; want %+v", got, err, want)
	}
	if got, err := ReadRecord(filepath.Join(dir, "empty")); err != nil || got != (Record{}) {
		t.Errorf("ReadRecord(empty) = %+v, %v; want zero record", got, err)
	}
	if _, err := ReadRecord(filepath.Join(dir, "bad")); !errors.Is(err, ErrBadRecord) {
		t.Errorf("ReadRecord(bad) error = %v, want ErrBadRecord", err)
	}
	if _, err := ReadRecord(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadRecord(missing) error = %v, want ErrNotExist", err)
	}
}

func TestValidCgroup(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/sdbuild.slice/sdbuild-x.scope", true},
		{"/a", true},
		{"", false},
		{"/", false},
		{"relative/x", false},
		{"/a/../b", false},
		{"/..", false},
		{"/a/", false},
		{"//a", false},
		{"/a/./b", false},
	}
	for _, tt := range tests {
		if got := validCgroup(tt.path); got != tt.want {
			t.Errorf("validCgroup(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestReadQuarantined(t *testing.T) {
	dir := t.TempDir()
	for slot, r := range map[int]Record{
		0: {BuildID: "a", State: StateReleased},
		2: {BuildID: "b", State: StateHeld, Quarantine: "pid 4711 survived SIGKILL for 5s"},
		3: {BuildID: "c", State: StateHeld},
	} {
		b, err := encodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(LockPath(dir, slot), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadQuarantined(dir, 4)
	want := []Quarantine{{Slot: 2, Reason: "pid 4711 survived SIGKILL for 5s"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ReadQuarantined = %+v, %v; want %+v", got, err, want)
	}
	if err := os.WriteFile(LockPath(dir, 1), []byte("{not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadQuarantined(dir, 4); !errors.Is(err, ErrBadRecord) {
		t.Errorf("ReadQuarantined with a malformed record: %v, want ErrBadRecord", err)
	}
}
