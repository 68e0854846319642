package buildlog

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// output returns n bytes of build-like output: lines of varying length.
func output(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		b.WriteString(strings.Repeat("o", i%97))
		b.WriteByte('\n')
	}
	return b.Bytes()[:n]
}

// writeChunks writes data in chunks of varying size, then closes l.
func writeChunks(t *testing.T, l *Log, data []byte) {
	t.Helper()
	for i, rest := 0, data; len(rest) > 0; i++ {
		n := min(len(rest), 1+i*37%4000)
		if _, err := l.Write(rest[:n]); err != nil {
			t.Errorf("Write = %v", err)
			return
		}
		rest = rest[n:]
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}

// waitForFollower returns once a follower waits on l for more output.
func waitForFollower(l *Log) {
	for {
		l.pubMu.Lock()
		w := l.waiting
		l.pubMu.Unlock()
		if w {
			return
		}
		runtime.Gosched()
	}
}

// TestFollowWhileWriting: followers started before and during the build
// each read everything from offset 0, then EOF.
func TestFollowWhileWriting(t *testing.T) {
	l, _ := newLog(t, "f1", "")
	data := output(1 << 20)
	readers := []io.ReadCloser{l.Follow(t.Context()), l.Follow(t.Context())}
	write(t, l, string(data[:1000]))
	readers = append(readers, l.Follow(t.Context()))

	var wg sync.WaitGroup
	got := make([][]byte, len(readers))
	errs := make([]error, len(readers))
	for i, r := range readers {
		wg.Go(func() {
			defer r.Close()
			got[i], errs[i] = io.ReadAll(r)
		})
	}
	writeChunks(t, l, data[1000:])
	wg.Wait()
	for i := range readers {
		if errs[i] != nil || !bytes.Equal(got[i], data) {
			t.Errorf("follower %d read %d bytes, %v; want the %d written", i, len(got[i]), errs[i], len(data))
		}
	}
}

// TestFollowAfterClose: a follower of a finished log reads it and gets
// EOF, also when the log is empty.
func TestFollowAfterClose(t *testing.T) {
	for _, data := range []string{"", "a\nb\npartial"} {
		l, _ := newLog(t, "f2", "")
		write(t, l, data)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		r := l.Follow(t.Context())
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(got) != data {
			t.Errorf("follower after Close read %q, %v, want %q, nil", got, err, data)
		}
	}
}

// TestFollowWakes: a follower waiting at the end gets the next Write, and
// EOF at Close.
func TestFollowWakes(t *testing.T) {
	l, _ := newLog(t, "f3", "")
	r := l.Follow(t.Context())
	defer r.Close()
	type result struct {
		s   string
		err error
	}
	read := func() <-chan result {
		ch := make(chan result, 1)
		go func() {
			buf := make([]byte, 64)
			n, err := r.Read(buf)
			ch <- result{string(buf[:n]), err}
		}()
		return ch
	}

	ch := read()
	waitForFollower(l)
	write(t, l, "more")
	if got := <-ch; got.s != "more" || got.err != nil {
		t.Errorf("waiting Read after Write = %q, %v, want %q, nil", got.s, got.err, "more")
	}
	ch = read()
	waitForFollower(l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := <-ch; got.s != "" || got.err != io.EOF {
		t.Errorf("waiting Read after Close = %q, %v, want EOF", got.s, got.err)
	}
}

// TestFollowEnds: a Read ends with the context's error when it is
// cancelled, waiting or not, and with ErrClosed when the follower is closed.
func TestFollowEnds(t *testing.T) {
	tests := []struct {
		name string
		end  func(cancel context.CancelFunc, r io.Closer)
		wait bool // end the Read while it waits, rather than before it
		want error
	}{
		{"cancelled before Read", func(c context.CancelFunc, _ io.Closer) { c() }, false, context.Canceled},
		{"cancelled while waiting", func(c context.CancelFunc, _ io.Closer) { c() }, true, context.Canceled},
		{"closed before Read", func(_ context.CancelFunc, r io.Closer) { r.Close() }, false, ErrClosed},
		{"closed while waiting", func(_ context.CancelFunc, r io.Closer) { r.Close() }, true, ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newLog(t, "f4", "")
			defer l.Close()
			// Unread output: a Read ended before it starts must not
			// return it.
			write(t, l, "unread")
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r := l.Follow(ctx)
			defer r.Close()
			buf := make([]byte, 64)
			if tt.wait {
				if n, err := r.Read(buf); n != len("unread") || err != nil {
					t.Fatalf("first Read = %d, %v", n, err)
				}
				errc := make(chan error, 1)
				go func() {
					_, err := r.Read(buf)
					errc <- err
				}()
				waitForFollower(l)
				tt.end(cancel, r)
				if err := <-errc; !errors.Is(err, tt.want) {
					t.Errorf("waiting Read = %v, want %v", err, tt.want)
				}
				return
			}
			tt.end(cancel, r)
			if n, err := r.Read(buf); n != 0 || !errors.Is(err, tt.want) {
				t.Errorf("Read = %d, %v, want 0, %v", n, err, tt.want)
			}
		})
	}
}

// TestFollowerDoesNotBlockWriter: output goes on while a follower reads
// nothing; if Write waited for followers, this test would hang.
func TestFollowerDoesNotBlockWriter(t *testing.T) {
	l, _ := newLog(t, "f5", "")
	r := l.Follow(t.Context())
	defer r.Close()
	data := output(8 << 20)
	writeChunks(t, l, data)
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("idle follower then read %d bytes, %v; want %d", len(got), err, len(data))
	}
}

// TestFollowRemoved: a follower that cannot open the file says so on Read.
func TestFollowRemoved(t *testing.T) {
	l, _ := newLog(t, "f6", "")
	defer l.Close()
	if err := os.Remove(l.Path()); err != nil {
		t.Fatal(err)
	}
	r := l.Follow(t.Context())
	defer r.Close()
	if _, err := r.Read(make([]byte, 8)); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "f6") {
		t.Errorf("Read = %v, want an error naming f6 and wrapping %v", err, fs.ErrNotExist)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	l, err := create(dir, "done", "", &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, l, "all\nof it")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id       string
		want     string
		wantErr  error
		errNames bool // the error names the id
	}{
		{"done", "all\nof it", nil, false},
		{"missing", "", ErrNotFound, true},
		{"../done", "", ErrInvalidID, true},
	}
	for _, tt := range tests {
		r, err := Open(dir, tt.id)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) || tt.errNames && !strings.Contains(err.Error(), tt.id) {
				t.Errorf("Open(%q) = %v, want an error naming it and wrapping %v", tt.id, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%q) = %v", tt.id, err)
			continue
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(got) != tt.want {
			t.Errorf("Open(%q) read %q, %v, want %q", tt.id, got, err, tt.want)
		}
	}
}
