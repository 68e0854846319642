package api

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Errors of a chunked body that does not follow RFC 9112 section 7.1,
// worded as net/http words them.
var (
	errChunked     = errors.New("malformed chunked encoding")
	errChunkLength = errors.New("invalid byte in chunk length")
	errLineTooLong = errors.New("header line too long")
)

// maxChunkLine bounds a chunk's size line (with its extensions) and a
// trailer line.
const maxChunkLine = 4096

// chunked reads a body in chunked transfer coding. A Read returns what
// one chunk holds without waiting for the next: a followed build's events
// arrive one chunk at a time, each as the daemon flushes it.
type chunked struct {
	r    *bufio.Reader
	n    uint64 // left in this chunk
	cr   bool   // the CRLF after a chunk's data is due
	err  error
	line int // chunk size lines read, for errors
}

func (c *chunked) Read(p []byte) (int, error) {
	for c.err == nil {
		if c.cr {
			c.err = c.crlf()
			c.cr = false
			continue
		}
		if c.n == 0 {
			c.n, c.err = c.size()
			if c.err == nil && c.n == 0 {
				c.err = c.trailer()
				if c.err == nil {
					c.err = io.EOF
				}
			}
			continue
		}
		if len(p) == 0 {
			return 0, nil
		}
		if uint64(len(p)) > c.n {
			p = p[:c.n]
		}
		n, err := c.r.Read(p)
		c.n -= uint64(n)
		if c.n == 0 {
			c.cr = true
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		c.err = err
		if n > 0 {
			return n, nil
		}
	}
	return 0, c.err
}

// readLine reads one line without its CRLF.
func (c *chunked) readLine() ([]byte, error) {
	l, err := c.r.ReadSlice('\n')
	if err == io.EOF {
		return nil, io.ErrUnexpectedEOF
	}
	if errors.Is(err, bufio.ErrBufferFull) || len(l) > maxChunkLine {
		return nil, errLineTooLong
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(bytes.TrimSuffix(l, []byte("\n")), []byte("\r")), nil
}

// size reads a chunk's size line; extensions (";name=value") are ignored.
func (c *chunked) size() (uint64, error) {
	l, err := c.readLine()
	if err != nil {
		return 0, err
	}
	c.line++
	l, _, _ = bytes.Cut(l, []byte(";"))
	n, err := strconv.ParseUint(string(bytes.TrimRight(l, " \t")), 16, 63)
	if err != nil {
		return 0, fmt.Errorf("%w: chunk %d's size %q", errChunkLength, c.line, l)
	}
	return n, nil
}

// crlf reads the CRLF that ends a chunk's data: those two bytes, and
// nothing else, follow it.
func (c *chunked) crlf() error {
	b, err := c.r.Peek(2)
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	if err != nil {
		return err
	}
	if b[0] != '\r' || b[1] != '\n' {
		return fmt.Errorf("%w: chunk %d longer than its size", errChunked, c.line)
	}
	c.r.Discard(2)
	return nil
}

// trailer reads the trailer fields after the last chunk, up to the empty
// line; sdbuild's daemon sends none, and any are dropped.
func (c *chunked) trailer() error {
	for {
		l, err := c.readLine()
		if err != nil {
			return err
		}
		if len(l) == 0 {
			return nil
		}
	}
}
