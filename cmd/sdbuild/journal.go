package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strings"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/internal/timespan"
)

// journal field names, as buildlog writes them.
const (
	fieldMessage = "MESSAGE"
	fieldID      = "SDBUILD_ID"
	fieldEvent   = "SDBUILD_EVENT"
)

// journalLogs prints a build's lines logged since f.since, from the
// journal, which stamps every line (the log file does not). A user's own
// daemon logs to the user's journal.
func journalLogs(c *api.Client, id string, f *logsFlags, user bool, w io.Writer) error {
	// The full id: the journal matches fields exactly.
	b, err := c.Get(context.Background(), id)
	if err != nil {
		return err
	}
	args := []string{"--no-pager", "--output=json", "--since=" + journalSince(f.since), fieldID + "=" + b.ID}
	if user {
		args = append([]string{"--user"}, args...)
	}
	args = append(args, f.journalArgs()...)
	cmd := exec.Command("journalctl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("logs of build %s: journalctl: %w", b.ID, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("logs of build %s: --since reads the journal: %w", b.ID, err)
	}
	var lines bytes.Buffer
	sink := w
	if !f.follow && f.tail >= 0 {
		sink = &lines
	}
	// Following, the build's "finished" entry ends the output; journalctl
	// -f itself never ends.
	perr := journalLines(out, sink, f.follow)
	if f.follow {
		cmd.Process.Kill()
	}
	werr := cmd.Wait()
	if perr != nil {
		return fmt.Errorf("logs of build %s: %w", b.ID, perr)
	}
	if werr != nil && !f.follow {
		return fmt.Errorf("logs of build %s: journalctl: %w: %s", b.ID, werr, strings.TrimSpace(stderr.String()))
	}
	if sink == &lines {
		_, err = w.Write(tailLines(lines.Bytes(), f.tail))
	}
	return err
}

// journalSince turns a time span ("10min", "90") into journalctl's "that
// long ago"; anything else is journalctl's own syntax.
func journalSince(s string) string {
	if d, err := timespan.Parse(s); err == nil && d > 0 {
		return fmt.Sprintf("-%ds", int64(math.Ceil(d.Seconds())))
	}
	return s
}

// errFinished: the build's finished entry was read.
var errFinished = errors.New("finished")

// journalLines copies the MESSAGE of each journalctl -o json entry to w
// as a line, leaving out sdbuild's lifecycle entries (SDBUILD_EVENT);
// with untilFinished it returns at the "finished" one.
func journalLines(r io.Reader, w io.Writer, untilFinished bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var e map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("read journal entry: %w", err)
		}
		if ev, ok := e[fieldEvent]; ok {
			if untilFinished && string(journalField(ev)) == "finished" {
				return nil
			}
			continue
		}
		msg := journalField(e[fieldMessage])
		if _, err := w.Write(append(msg, '\n')); err != nil {
			return err
		}
	}
	return sc.Err()
}

// journalField decodes a field of journalctl -o json: a string, an array
// of bytes (a value that is not valid UTF-8), or for a field given more
// than once an array of those (the first is taken).
func journalField(raw json.RawMessage) []byte {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []byte(s)
	}
	var b []byte
	var ints []int
	if json.Unmarshal(raw, &ints) == nil {
		for _, n := range ints {
			b = append(b, byte(n))
		}
		return b
	}
	var many []json.RawMessage
	if json.Unmarshal(raw, &many) == nil && len(many) > 0 {
		return journalField(many[0])
	}
	return nil
}
