//go:build integration && linux

// Integration test against a real journald. Run it inside the throwaway
// systemd:
//
//	go run ./cmd/sdbuild-testbed run -- go test -tags integration ./buildlog/...

package buildlog

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
)

const runInTestbed = "go run ./cmd/sdbuild-testbed run -- go test -tags integration ./buildlog/..."

// TestJournal writes a build's output and lifecycle to the real journald
// and reads it back the two ways a user would: by SDBUILD_ID and by unit.
func TestJournal(t *testing.T) {
	if !journal.Enabled() {
		t.Fatalf("journald is not reachable at /run/systemd/journal/socket; this test needs it: run it inside the testbed: %s", runInTestbed)
	}
	if os.Geteuid() != 0 {
		// journalctl -u matches OBJECT_SYSTEMD_UNIT only on entries with _UID=0.
		t.Fatalf("needs root: journalctl -u shows OBJECT_SYSTEMD_UNIT only for entries root sent; run it inside the testbed: %s", runInTestbed)
	}
	var b [6]byte
	rand.Read(b[:])
	id := "test-" + hex.EncodeToString(b[:])
	unit := "sdbuild-" + id + ".scope"

	var out bytes.Buffer
	var want [][]byte
	for i := range 100 {
		fmt.Fprintf(&out, "line %d of %s\n", i, id)
		want = append(want, fmt.Appendf(nil, "line %d of %s", i, id))
	}
	long := bytes.Repeat([]byte("0123456789"), 500)
	extra := [][]byte{
		{},                             // an empty line
		[]byte("tab\there, ünïcode €"), // UTF-8 and a control character
		[]byte("bin\xff\xfe\x00nul"),   // not UTF-8, with a NUL
		[]byte("crlf\r"),               // CR LF output keeps its CR
		long,                           // 5000 bytes: 4096 + 904
	}
	for _, e := range extra {
		out.Write(e)
		out.WriteByte('\n')
	}
	want = append(want, extra[:4]...)
	want = append(want, long[:maxLine], long[maxLine:])
	out.WriteString("no newline at the end")
	want = append(want, []byte("no newline at the end"))

	if err := Queued(id, unit); err != nil {
		t.Fatalf("Queued = %v", err)
	}
	l, err := Create(t.TempDir(), id, "")
	if err != nil {
		t.Fatal(err)
	}
	// The unit becomes known after the first bytes, as with a real scope,
	// but before the first line ends.
	data := out.Bytes()
	if _, err := l.Write(data[:3]); err != nil {
		t.Fatal(err)
	}
	l.SetUnit(unit)
	for rest := data[3:]; len(rest) > 0; {
		n := min(len(rest), 777)
		if _, err := l.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	fin := Outcome{Status: "succeeded", Duration: 1500 * time.Millisecond, CPU: time.Second, MemoryPeak: 1 << 20}
	if err := Finished(id, unit, fin); err != nil {
		t.Fatalf("Finished = %v", err)
	}
	finMsg, finFields := fin.message(id)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	// journald may not have written what it received yet.
	if out, err := exec.CommandContext(ctx, "journalctl", "--sync").CombinedOutput(); err != nil {
		t.Fatalf("journalctl --sync: %v: %s", err, out)
	}
	for _, match := range [][]string{{"SDBUILD_ID=" + id}, {"-u", unit}} {
		t.Run(strings.Join(match, " "), func(t *testing.T) {
			entries := readJournal(t, ctx, match...)
			var msgs [][]byte
			for i, e := range entries {
				msgs = append(msgs, e.bytes(t, "MESSAGE"))
				for k, v := range map[string]string{"SYSLOG_IDENTIFIER": "sdbuild", "SDBUILD_ID": id, "OBJECT_SYSTEMD_UNIT": unit, "PRIORITY": "6"} {
					if got := e.bytes(t, k); string(got) != v {
						t.Errorf("entry %d %q: %s = %q, want %q", i, msgs[i], k, got, v)
					}
				}
			}
			wantMsgs := append([][]byte{[]byte("build " + id + " queued")}, want...)
			wantMsgs = append(wantMsgs, []byte(finMsg))
			if !slices.EqualFunc(msgs, wantMsgs, bytes.Equal) {
				i := 0
				for i < min(len(msgs), len(wantMsgs)) && bytes.Equal(msgs[i], wantMsgs[i]) {
					i++
				}
				t.Fatalf("journalctl %s: %d messages, want %d; first difference at %d: got %q, want %q",
					match, len(msgs), len(wantMsgs), i, msgs[i:min(i+3, len(msgs))], wantMsgs[i:min(i+3, len(wantMsgs))])
			}
			if got := entries[0].bytes(t, FieldEvent); string(got) != EventQueued {
				t.Errorf("first entry: %s = %q, want %q", FieldEvent, got, EventQueued)
			}
			last := entries[len(entries)-1]
			for k, v := range finFields {
				if got := last.bytes(t, k); string(got) != v {
					t.Errorf("finished event: %s = %q, want %q", k, got, v)
				}
			}
			for i, e := range entries[1 : len(entries)-1] {
				if _, ok := e[FieldEvent]; ok {
					t.Errorf("output entry %d has %s", i, FieldEvent)
				}
			}
		})
	}
}

// jsonEntry is one entry of journalctl -o json, fields kept raw: a value is
// a string, an array of bytes when it is not printable UTF-8, or an array of
// values when the entry holds the field more than once.
type jsonEntry map[string]json.RawMessage

func readJournal(t *testing.T, ctx context.Context, match ...string) []jsonEntry {
	t.Helper()
	// --all: without it journalctl prints fields of 4096 bytes and more as null.
	args := append([]string{"--no-pager", "--all", "-o", "json"}, match...)
	out, err := exec.CommandContext(ctx, "journalctl", args...).Output()
	if err != nil {
		t.Fatalf("journalctl %s: %v", args, err)
	}
	var entries []jsonEntry
	for line := range bytes.Lines(out) {
		var e jsonEntry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("journalctl %s printed %q: %v", args, line, err)
		}
		entries = append(entries, e)
	}
	return entries
}

// bytes returns the single value of field k.
func (e jsonEntry) bytes(t *testing.T, k string) []byte {
	t.Helper()
	raw, ok := e[k]
	if !ok {
		t.Errorf("no field %s in %v", k, e)
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []byte(s)
	}
	var b []byte
	var nums []int
	if err := json.Unmarshal(raw, &nums); err == nil {
		for _, n := range nums {
			b = append(b, byte(n))
		}
		return b
	}
	t.Errorf("field %s = %s: not a single value", k, raw)
	return nil
}
