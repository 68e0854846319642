package buildlog

import (
	"bytes"
	"unicode/utf8"
)

// maxLine is the longest journal entry a line becomes; a longer line is
// sent in pieces. journald would take far more, but a progress bar or a
// minified file printed without newlines should not become one huge entry,
// nor wait in memory for a newline that never comes.
const maxLine = 4096

// lineSplitter cuts a byte stream into lines without their '\n', and
// lines longer than max into pieces of at most max bytes.
type lineSplitter struct {
	max  int
	part []byte // the current line so far, shorter than max+lookahead
}

// lookahead is how many bytes past max a partial line must hold before its
// first piece is cut: enough to see whether a UTF-8 sequence straddles max.
// Cutting with fewer would make the pieces depend on how the output was
// chunked into writes.
const lookahead = utf8.UTFMax - 1

// write passes each complete line in p to emit, and the first pieces of a
// long partial one, and keeps the rest for the next call. emit must not
// keep the slice.
func (s *lineSplitter) write(p []byte, emit func([]byte)) {
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			break
		}
		line := p[:i]
		if len(s.part) > 0 {
			s.part = append(s.part, line...)
			line = s.part
		}
		s.emitLine(line, emit)
		s.part = s.part[:0]
		p = p[i+1:]
	}
	if len(p) == 0 {
		return
	}
	rest := p
	if len(s.part) > 0 {
		s.part = append(s.part, p...)
		rest = s.part
	}
	for len(rest) >= s.max+lookahead {
		n := cut(rest, s.max)
		emit(rest[:n])
		rest = rest[n:]
	}
	// rest may alias s.part; copy (memmove) handles the overlap.
	s.part = append(s.part[:0], rest...)
}

// flush passes on the partial line, if any, as if it had ended.
func (s *lineSplitter) flush(emit func([]byte)) {
	if len(s.part) > 0 {
		s.emitLine(s.part, emit)
		s.part = s.part[:0]
	}
}

// emitLine passes a whole line to emit, in pieces if it is too long.
func (s *lineSplitter) emitLine(line []byte, emit func([]byte)) {
	for len(line) > s.max {
		n := cut(line, s.max)
		emit(line[:n])
		line = line[n:]
	}
	emit(line)
}

// cut returns where to end the first piece of b, which is longer than max:
// at max, or up to three bytes earlier so that a UTF-8 sequence straddling
// max moves whole into the next piece. Bytes that are not UTF-8 are cut at
// max.
func cut(b []byte, max int) int {
	for n := max; n > max-utf8.UTFMax && n > 0; n-- {
		if !utf8.RuneStart(b[n]) {
			continue
		}
		if _, size := utf8.DecodeRune(b[n:]); n < max && size > 1 && n+size > max {
			return n
		}
		return max
	}
	return max
}
