package build

import (
	"io"

	"github.com/sdbuild/sdbuild/sandbox"
)

// Action is what a remote-execution action (the runner service) adds to a
// request: where its directories are, where its stdout and stderr go
// besides the build's log, and how its directories are lent to the
// build's ids and taken back.
type Action struct {
	Sandbox        *sandbox.Action
	Stdout, Stderr io.Writer
	// Lend runs once the build has its slot, before anything of it
	// starts; Return runs once every process of the build is dead, also
	// when the build could not run, and only if Lend ran. Both get the
	// slot's host ids.
	Lend, Return func(ids IDs) error
	// Journal are fields for the journal entry that records the action
	// under the build's unit (SDBUILD_ACTION_DIGEST_PREFIX, ...).
	Journal map[string]string
}

// IDs are a slot's host ids: UID.. and GID.., Count of each.
type IDs struct{ UID, GID, Count uint32 }

// tee writes to an action's file and to the build's log. A failed file
// write does not stop the log; the first such error is kept for the
// caller, since an action whose output was lost must not pass.
type tee struct {
	file, log io.Writer
	err       error
}

func (t *tee) Write(p []byte) (int, error) {
	if t.err == nil {
		_, t.err = t.file.Write(p)
	}
	return t.log.Write(p)
}

// pumpAll copies r to w until r ends, then closes r.
func pumpAll(r io.ReadCloser, w io.Writer) {
	buf := make([]byte, logChunkMaxSize)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			w.Write(buf[:n])
		}
		if err != nil {
			r.Close()
			return
		}
	}
}
