package buildlog

import (
	"bytes"
	"io"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"
)

// memSink is a journal in memory for benchmarks: it keeps the last 64Ki
// messages, so the cost is that of a real sink's copy without a socket.
type memSink struct{ msgs []string }

func (m *memSink) send(msg string, _ map[string]string) error {
	if len(m.msgs) == cap(m.msgs) {
		m.msgs = m.msgs[:0]
	}
	m.msgs = append(m.msgs, msg)
	return nil
}

// line80 is one 80-byte line of build output.
var line80 = append(bytes.Repeat([]byte("cc -O2 -c src/buildlog.c "), 4)[:79], '\n')

// BenchmarkWrite writes 80-byte lines, one per Write (a line-buffered
// builder) and 409 per Write (a 32 KiB pipe read), to each journal sink.
func BenchmarkWrite(b *testing.B) {
	chunk := bytes.Repeat(line80, 32<<10/len(line80))
	sinks := []struct {
		name string
		sink func(b *testing.B) sink
	}{
		{"journal=memory", func(*testing.B) sink { return &memSink{msgs: make([]string, 0, 1<<16)} }},
		{"journal=none", func(*testing.B) sink { return nil }},
		{"journal=journald", func(b *testing.B) sink {
			if !journal.Enabled() {
				b.Skip("journald is not running; run inside the testbed: go run ./cmd/sdbuild-testbed run -- go test -run - -bench . ./buildlog/")
			}
			return journald{}
		}},
	}
	for _, s := range sinks {
		for _, w := range []struct {
			name string
			p    []byte
		}{{"line", line80}, {"32KiB", chunk}} {
			b.Run(s.name+"/write="+w.name, func(b *testing.B) {
				l, err := create(b.TempDir(), "bench", "sdbuild-bench.scope", s.sink(b))
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(w.p)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := l.Write(w.p); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(w.p)/len(line80)), "ns/line")
				if err := l.Close(); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// BenchmarkWriteFollowed is BenchmarkWrite/journal=memory/write=line with a
// follower reading all along: what waking followers costs the writer.
func BenchmarkWriteFollowed(b *testing.B) {
	l, err := create(b.TempDir(), "bench", "", &memSink{msgs: make([]string, 0, 1<<16)})
	if err != nil {
		b.Fatal(err)
	}
	r := l.Follow(b.Context())
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, r)
		done <- err
	}()
	b.SetBytes(int64(len(line80)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Write(line80); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	r.Close()
}
