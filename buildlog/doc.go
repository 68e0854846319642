// Package buildlog records one build's output: a log file in the state
// directory, journald line by line, and live followers.
//
// # The file
//
// Log.Write appends the build's bytes, unchanged, to <dir>/<id>.log (0600,
// in a directory made 0700: build output can hold secrets the build was
// given). The file is the record: it outlives the daemon and journal
// rotation, and Open and followers read it. Create refuses an existing file
// rather than mixing two builds' output under one id.
//
// # The journal
//
// Every complete line also becomes one journald entry with
// SYSLOG_IDENTIFIER=sdbuild, SDBUILD_ID=<id> and, once the unit is known,
// OBJECT_SYSTEMD_UNIT=<unit>. journalctl -u <unit> matches that field for
// entries a root process sent, so both `journalctl -u sdbuild-<id>.scope`
// and `journalctl SDBUILD_ID=<id>` show the build's output. A partial line
// waits for its newline, for Close, or until it grows past 4 KiB (and the
// three bytes that show whether a UTF-8 sequence straddles the cut), when it
// goes out in pieces of at most 4 KiB, cut before a UTF-8 sequence rather
// than inside one.
//
// Bytes are passed on as they are. go-systemd sends a value as "KEY=VALUE\n"
// unless it holds a newline, and journald scans only for that newline, so NUL
// bytes and invalid UTF-8 arrive intact (journalctl shows such a value as an
// array of bytes); a line never holds a newline, since that is where it was
// cut.
//
// The journal is a copy for people, not the record, so a failed send never
// fails Write: the build's output must not be lost because journald
// restarted. Close reports lost lines with ErrJournal. When journald is not
// running at Create, the log goes to the file and followers only.
//
// Sends happen inside Write, in order. journald pushes back when it falls
// behind, like the pipe a systemd service's output goes through; a queue in
// between would only move the backlog into sdbuildd's memory.
//
// journald rate-limits each sending unit (by default 10000 entries per 30 s,
// raised somewhat when the disk has room),
// and every build's lines are sent by sdbuildd, so a chatty build can get
// sdbuildd's own entries dropped for a while. sdbuildd's unit should set
// LogRateLimitIntervalSec=0 or a higher LogRateLimitBurst=; the file is
// never affected.
//
// Event and its helpers Queued, Started and Finished send the build's
// lifecycle to the journal with the same fields plus SDBUILD_EVENT.
//
// # Followers
//
// Log.Follow returns a reader that starts at offset 0 and reads the file
// through its own descriptor, at its own pace, up to what has been written;
// at the end it waits for the next Write or for Close, after which it
// returns io.EOF. A follower therefore never holds up the build: Write only
// bumps a size and, if somebody waits, closes a channel.
//
// # Locking
//
// Log.mu serializes writers: it covers the file write, the partial line and
// the journal sends, so entries reach journald in file order. Log.pubMu
// covers what followers look at (size, closed, the wake channel) and is held
// for a few instructions only; followers never take mu. Lock order: mu, then
// pubMu.
package buildlog
