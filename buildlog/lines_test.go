package buildlog

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// splitAll feeds writes to a fresh splitter and returns what write and
// flush emitted.
func splitAll(max int, writes []string) (lines, flushed []string) {
	s := lineSplitter{max: max}
	for _, w := range writes {
		s.write([]byte(w), func(b []byte) { lines = append(lines, string(b)) })
	}
	s.flush(func(b []byte) { flushed = append(flushed, string(b)) })
	return lines, flushed
}

func TestLineSplitter(t *testing.T) {
	tests := []struct {
		name    string
		max     int
		writes  []string
		lines   []string
		flushed []string
	}{
		{"one line", 16, []string{"hello\n"}, []string{"hello"}, nil},
		{"two lines in one write", 16, []string{"a\nb\n"}, []string{"a", "b"}, nil},
		{"line across writes", 16, []string{"he", "llo\nwor", "ld\n"}, []string{"hello", "world"}, nil},
		{"empty lines", 16, []string{"\n\n"}, []string{"", ""}, nil},
		{"partial line waits for flush", 16, []string{"a\nbc"}, []string{"a"}, []string{"bc"}},
		{"nothing to flush", 16, []string{"a\n"}, []string{"a"}, nil},
		{"carriage return kept", 16, []string{"a\r\n"}, []string{"a\r"}, nil},
		{"NUL and invalid UTF-8 kept", 16, []string{"a\x00b\xff\n"}, []string{"a\x00b\xff"}, nil},
		{"exactly max", 4, []string{"abcd\n"}, []string{"abcd"}, nil},
		{"max plus one", 4, []string{"abcde\n"}, []string{"abcd", "e"}, nil},
		{"long line in pieces", 4, []string{"abcdefghij\n"}, []string{"abcd", "efgh", "ij"}, nil},
		{"long partial line sent early", 4, []string{"abcdefghij"}, []string{"abcd"}, []string{"efgh", "ij"}},
		{"partial waits for lookahead", 4, []string{"abcdef"}, nil, []string{"abcd", "ef"}},
		{"partial cut with lookahead", 4, []string{"abcdefg"}, []string{"abcd"}, []string{"efg"}},
		{"rune straddling max in partial", 4, []string{"ab", "\xe2\x82", "\xacxy"}, []string{"ab"}, []string{"€x", "y"}},
		{"partial grows past max across writes", 4, []string{"ab", "cd", "ef\n"}, []string{"abcd", "ef"}, nil},
		{"partial of exactly max then newline", 4, []string{"abcd", "\n"}, []string{"abcd"}, nil},
		{"3-byte rune moves whole", 4, []string{"ab€x\n"}, []string{"ab", "€x"}, nil},
		{"4-byte rune moves whole", 4, []string{"a😀\n"}, []string{"a", "😀"}, nil},
		{"rune ending at max stays", 4, []string{"a€b\n"}, []string{"a€", "b"}, nil},
		{"continuation bytes cut at max", 4, []string{"\x80\x80\x80\x80\x80\n"}, []string{"\x80\x80\x80\x80", "\x80"}, nil},
		{"truncated rune cut at max", 4, []string{"ab\xe2\x82x\n"}, []string{"ab\xe2\x82", "x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, flushed := splitAll(tt.max, tt.writes)
			if !slices.Equal(lines, tt.lines) {
				t.Errorf("lines of %q (max %d) = %q, want %q", tt.writes, tt.max, lines, tt.lines)
			}
			if !slices.Equal(flushed, tt.flushed) {
				t.Errorf("flush after %q (max %d) = %q, want %q", tt.writes, tt.max, flushed, tt.flushed)
			}
		})
	}
}

// TestLineSplitterChunking: how output is chunked into writes must not
// change the lines, no piece may exceed max, and the pieces must add up to
// the input.
func TestLineSplitterChunking(t *testing.T) {
	const max = 7
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := [][]byte{[]byte("a"), []byte("\n"), []byte("€"), []byte("😀"), {0xff}, {0x80}}
	for i := range 2000 {
		var in []byte
		for range rng.IntN(60) {
			in = append(in, alphabet[rng.IntN(len(alphabet))]...)
		}
		whole, wholeFlush := splitAll(max, []string{string(in)})
		var chunks []string
		for rest := in; len(rest) > 0; {
			n := 1 + rng.IntN(min(len(rest), 12))
			chunks = append(chunks, string(rest[:n]))
			rest = rest[n:]
		}
		lines, flushed := splitAll(max, chunks)
		if !slices.Equal(lines, whole) || !slices.Equal(flushed, wholeFlush) {
			t.Fatalf("case %d: %q in chunks %q = %q + %q, in one write = %q + %q", i, in, chunks, lines, flushed, whole, wholeFlush)
		}
		var total int
		for _, l := range append(lines, flushed...) {
			if len(l) > max {
				t.Fatalf("case %d: piece %q of %q is longer than %d", i, l, in, max)
			}
			total += len(l)
		}
		if want := len(in) - bytes.Count(in, []byte("\n")); total != want {
			t.Fatalf("case %d: pieces of %q hold %d bytes, want %d", i, in, total, want)
		}
	}
}
