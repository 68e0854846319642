package buildlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
)

// Follow returns a reader of the whole log from its first byte, like
// `tail -f -c +1`: at the end of what has been written it waits for more,
// and it returns io.EOF once the log is closed and it has read everything.
// It works before and after Close. Cancelling ctx ends a Read, waiting or
// not, with ctx.Err(). Close the reader when done: it holds a descriptor.
func (l *Log) Follow(ctx context.Context) io.ReadCloser {
	fr := &follower{log: l, ctx: ctx, stop: make(chan struct{})}
	// A descriptor of its own: the follower reads at its own offset and
	// pace, and still reads everything after the Log has closed its file.
	fr.file, fr.err = os.Open(l.path)
	if fr.err != nil {
		fr.err = fmt.Errorf("follow log %s: %w", l.id, fr.err)
	}
	return fr
}

// Open returns the log of a build as it is in dir, normally a finished
// one. It returns an error wrapping ErrNotFound if there is none.
func Open(dir, id string) (io.ReadCloser, error) {
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	path := logPath(dir, id)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open log %s (%s): %w", id, path, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", id, err)
	}
	return f, nil
}

// follower reads a Log's file up to the size the Log has published, so it
// never sees a write half done, and waits on the Log's wake channel at the
// end.
type follower struct {
	log  *Log
	ctx  context.Context
	file *os.File
	err  error // from opening file; returned by every Read
	off  int64

	stop     chan struct{} // closed by Close, to end a waiting Read
	stopOnce sync.Once
}

func (fr *follower) Read(p []byte) (int, error) {
	if fr.err != nil {
		return 0, fr.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		select {
		case <-fr.stop:
			return 0, fmt.Errorf("read log %s: %w", fr.log.id, ErrClosed)
		default:
		}
		if err := fr.ctx.Err(); err != nil {
			return 0, err
		}
		size, closed, wake := fr.log.poll(fr.off)
		if fr.off < size {
			n := int(min(int64(len(p)), size-fr.off))
			n, err := fr.file.ReadAt(p[:n], fr.off)
			fr.off += int64(n)
			if n > 0 {
				return n, nil
			}
			if errors.Is(err, io.EOF) {
				// The file is shorter than what was written to it:
				// somebody truncated or replaced it.
				err = io.ErrUnexpectedEOF
			}
			return 0, fmt.Errorf("read log %s: %w", fr.log.id, err)
		}
		if closed {
			return 0, io.EOF
		}
		select {
		case <-wake:
		case <-fr.ctx.Done():
			return 0, fr.ctx.Err()
		case <-fr.stop:
			return 0, fmt.Errorf("read log %s: %w", fr.log.id, ErrClosed)
		}
	}
}

// Close releases the follower's descriptor and ends a Read waiting in
// another goroutine.
func (fr *follower) Close() error {
	var err error
	fr.stopOnce.Do(func() {
		close(fr.stop)
		if fr.file != nil {
			err = fr.file.Close()
		}
	})
	return err
}
