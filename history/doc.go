// Package history keeps the daemon's persistent record of builds.
//
// # Why bbolt
//
// The record is one file, <state-dir>/history.db, written by one process
// (sdbuildd) and read by it alone: an embedded B+tree with ACID transactions
// and no server is exactly that. bbolt adds the two properties the daemon
// needs and a directory of JSON files would have to rebuild by hand: a write
// touching a record and its index entries commits atomically, and cursors
// walk keys in order, so "the newest 50" reads 50 records, not 100,000.
//
// # Key layout
//
// Every key that names a build by position uses its sequence number seq, an
// 8-byte big-endian integer from bucket.NextSequence taken when the build is
// first stored. Big-endian keys sort like the numbers, so key order is
// creation order and "newest first" is a backwards cursor walk.
//
//	builds  seq            → JSON api.Build (the record itself)
//	ids     build id       → seq
//	uids    uid(4) ‖ seq   → empty (a user's builds, for List's UID filter)
//	active  seq            → empty (builds whose status is not final)
//
// active stays small (queued and running builds only), so Active, which the
// daemon calls at start to recover from a crash, costs nothing like a scan of
// the whole history. Records are JSON so that a newer sdbuildd can add fields
// and an older one still reads the record (unknown fields are ignored); an
// older sdbuildd that rewrites such a record drops what it does not know.
//
// # Crash safety
//
// bbolt never overwrites a live page. A commit writes the changed pages to
// free space, fdatasyncs, and only then writes one of two alternating meta
// pages (checksummed, naming the tree's root and the transaction id) and
// fdatasyncs again. Open picks the valid meta page with the highest
// transaction id. So whenever sdbuildd is killed, even with SIGKILL in the
// middle of a commit, the file holds either the old tree or the new one,
// never a mix: the unfinished commit is lost, every finished one is kept. A
// killed process does not even need the fsyncs for that (its writes sit in
// the kernel's page cache and reach the file regardless); the default fsync
// per commit is what extends the guarantee to power loss and kernel crashes,
// and what makes "Put returned nil" mean "on disk". Because a build's record
// and its index entries are written in one transaction, the indexes can
// never disagree with the records after a crash either.
//
// # Writes
//
// Put hands its record to one committer goroutine and returns once the
// record is committed. Each commit takes every record waiting when it
// starts, in order, and writes them in one transaction: Puts that arrive
// while a commit fsyncs share the next one, so n builds at once cost a
// commit per round instead of n commits one behind another, and a lone
// Put waits for no one. db.Batch also shares commits, but its window makes
// every lone Put wait for companions that may never come; BenchmarkPut
// compares the three. A record that cannot be written fails its own Put
// alone (its group is then written record by record). PutOrdered hands a
// record over and waits apart, keeping the order of records. The daemon
// writes three per build: queued (on disk before the client hears of the
// build, so crash recovery (Active) finds every build that may have run),
// running (committed while the build starts; a crash just after the start
// leaves it reading as queued) and finished (on disk before the daemon
// forgets the build). PutAll writes many builds in one transaction for
// callers that have them together, such as marking every active build
// interrupted at start.
//
// # One daemon
//
// Open takes bbolt's exclusive flock on the file and gives up after a second,
// so a second sdbuildd on the same state directory fails with ErrInUse
// instead of corrupting the first one's file or hanging.
package history
