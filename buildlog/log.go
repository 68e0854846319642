package buildlog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// Log is the output of one running build. Write, SetUnit and Close may be
// called from several goroutines (a build's stdout and stderr copied
// separately, say); any number of followers may read it meanwhile.
type Log struct {
	id   string
	path string

	mu     sync.Mutex
	file   *os.File          // protected by mu; nil once closed
	lines  lineSplitter      // protected by mu
	sink   sink              // protected by mu; nil: no journal
	fields map[string]string // protected by mu
	emit   func([]byte)      // sendLocked, bound once so Write does not allocate it
	sent   int               // protected by mu: journal entries tried
	lost   int               // protected by mu: journal entries that failed
	lostAt error             // protected by mu: the first failure

	pubMu   sync.Mutex
	size    int64         // protected by pubMu: bytes written to the file
	closed  bool          // protected by pubMu
	wake    chan struct{} // protected by pubMu: closed when size or closed change while waiting is set
	waiting bool          // protected by pubMu: a follower holds wake
}

// Create starts the log of build id in dir: it makes dir (0700) if needed
// and creates <dir>/<id>.log (0600). unit is the build's systemd unit, or ""
// when not known yet (see SetUnit). If journald is not running, lines go to
// the file and followers only.
func Create(dir, id, unit string) (*Log, error) {
	return create(dir, id, unit, defaultSink())
}

// create is Create with the journal sink s, or none if s is nil.
func create(dir, id, unit string, s sink) (*Log, error) {
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create log %s: %w", id, err)
	}
	path := logPath(dir, id)
	// O_EXCL also refuses a symlink planted at path.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create log %s (%s): %w", id, path, ErrExists)
	}
	if err != nil {
		return nil, fmt.Errorf("create log %s: %w", id, err)
	}
	l := &Log{
		id:     id,
		path:   path,
		file:   f,
		lines:  lineSplitter{max: maxLine},
		sink:   s,
		fields: entryFields(id, unit, 0),
		wake:   make(chan struct{}),
	}
	l.emit = l.sendLocked
	return l, nil
}

// Path returns the log file's path.
func (l *Log) Path() string { return l.path }

// Write appends p to the file, wakes followers and sends each line
// completed by p to the journal. An error is about the file only: journal
// failures are counted and reported by Close.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return 0, fmt.Errorf("write log %s: %w", l.id, ErrClosed)
	}
	n, err := l.file.Write(p)
	if n > 0 {
		// Followers first: they need only the file, the journal can wait
		// a moment.
		l.publish(int64(n), false)
		if l.sink != nil {
			l.lines.write(p[:n], l.emit)
		}
	}
	if err != nil {
		return n, fmt.Errorf("write log %s: %w", l.id, err)
	}
	return n, nil
}

// SetUnit sets the unit named on the journal entries of lines completed from
// now on; "" stops naming one. A scope's name is known only once it starts,
// and the first lines may come before.
func (l *Log) SetUnit(unit string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if unit == "" {
		delete(l.fields, unitField)
		return
	}
	l.fields[unitField] = unit
}

// Close sends a partial last line to the journal, closes the file and lets
// followers reach EOF. It returns an error wrapping ErrJournal if any line
// did not reach journald; the file is complete and closed all the same.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return fmt.Errorf("close log %s: %w", l.id, ErrClosed)
	}
	if l.sink != nil {
		l.lines.flush(l.emit)
	}
	ferr := l.file.Close()
	l.file = nil
	l.publish(0, true)
	if ferr != nil {
		ferr = fmt.Errorf("close log %s: %w", l.id, ferr)
	}
	var jerr error
	if l.lost > 0 {
		jerr = fmt.Errorf("send log %s to journal: %d of %d entries lost: %w: %w", l.id, l.lost, l.sent, ErrJournal, l.lostAt)
	}
	return errors.Join(ferr, jerr)
}

// sendLocked sends one line to the journal.
func (l *Log) sendLocked(line []byte) {
	l.sent++
	if err := l.sink.send(string(line), l.fields); err != nil {
		l.lost++
		if l.lostAt == nil {
			l.lostAt = err
		}
	}
}

// publish records n more bytes in the file (and the end of the log, if
// closed) and wakes the followers waiting for that.
func (l *Log) publish(n int64, closed bool) {
	l.pubMu.Lock()
	defer l.pubMu.Unlock()
	l.size += n
	l.closed = l.closed || closed
	if l.waiting {
		close(l.wake)
		l.wake = make(chan struct{})
		l.waiting = false
	}
}

// poll tells a follower at offset off how much of the file it may read and
// whether the log is closed. When it has read everything of an open log, it
// also gets a channel that is closed at the next Write or Close.
func (l *Log) poll(off int64) (size int64, closed bool, wake <-chan struct{}) {
	l.pubMu.Lock()
	defer l.pubMu.Unlock()
	if off < l.size || l.closed {
		return l.size, l.closed, nil
	}
	l.waiting = true
	return l.size, false, l.wake
}
