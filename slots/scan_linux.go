package slots

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// This file finds the processes that hold a slot's ids by reading
// /proc/PID/status. No cheaper kernel interface covers every way to hold
// an id: kill(2)'s permission check, the only one that searches all
// processes by id, compares the sender's real or effective uid with the
// target's real or saved uid (kernel/signal.c, kill_ok_by_cred), so it
// reaches no process by its effective or fs uid, by a gid, or by a
// supplementary group, and it takes one credential change per uid, 65536
// per slot. A pid namespace's processes are all listed in its ancestors'
// /proc, so the host's /proc sees every build's and container's.

// statusReader reads status files into one buffer reused across a scan.
// The kernel renders each file afresh on read, which is most of a scan's
// cost; os.ReadFile would add an fstat and an allocation per process.
type statusReader struct {
	buf []byte
}

// read parses the status file at path.
func (sr *statusReader) read(path string) (procIDs, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return procIDs{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	if sr.buf == nil {
		sr.buf = make([]byte, 4096)
	}
	n := 0
	for {
		m, err := unix.Read(fd, sr.buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return procIDs{}, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			break
		}
		n += m
		if n == len(sr.buf) {
			sr.buf = append(sr.buf, make([]byte, len(sr.buf))...)
		}
	}
	return parseStatus(sr.buf[:n])
}

// holds reports whether process pid, in any of its threads, holds an id
// of r. Credentials belong to each thread: a raw setresuid(2) changes only
// the caller's (glibc and Go make it process-wide by signalling every
// thread), and setfsuid(2) is per thread even through glibc, as file
// servers that act for their clients use it. So a process whose leader
// holds nothing of r is read thread by thread, unless leaderOnly: a
// process whose threads run only sdbuild's own code (see scanRange).
func (sr *statusReader) holds(pid int, r slotIDs, leaderOnly bool) (bool, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	ids, err := sr.read(dir + "/status")
	switch {
	case err != nil:
		return false, err
	case ids.inRange(r):
		return true, nil
	case leaderOnly || ids.threads <= 1:
		return false, nil
	}
	tids, err := readNames(dir + "/task")
	if err != nil {
		return false, err
	}
	leader := strconv.Itoa(pid)
	for _, tid := range tids {
		if tid == leader {
			continue
		}
		ids, err := sr.read(dir + "/task/" + tid + "/status")
		switch {
		case gone(err):
			continue // the thread exited
		case err != nil:
			return false, err
		case ids.inRange(r):
			return true, nil
		}
	}
	return false, nil
}

// readNames lists a directory.
func readNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

// scanRange opens a pidfd for every live process on the host with any id
// in r, in any of its threads. SIGKILL through the pidfd takes the whole
// thread group. Of the caller, and of the processes own names (see
// Options.OwnCode; nil: none), only the leader is read.
func scanRange(r slotIDs, own func(pid int) bool) ([]proc, error) {
	names, err := readNames("/proc")
	if err != nil {
		return nil, err
	}
	var sr statusReader
	self := os.Getpid()
	// This process's other threads run only sdbuild's own code, which
	// takes on a client's credentials to act for it (internal/fscred) and
	// never a slot's; so do those of the processes own names.
	inRange := func(pid int) (bool, error) {
		return sr.holds(pid, r, pid == self || own != nil && own(pid))
	}
	var found []proc
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 {
			continue
		}
		if pid == self {
			// Never killed: a leader in the range is a configuration error.
			in, err := inRange(pid)
			if err == nil && in {
				err = errSelfInRange
			}
			if err != nil {
				closeProcs(found)
				return nil, err
			}
			continue
		}
		// First a cheap filter, then the check that counts, made through a pidfd.
		if in, err := inRange(pid); !in {
			if err != nil && !gone(err) {
				closeProcs(found)
				return nil, err
			}
			continue
		}
		p, ok, err := openIf(pid, inRange)
		if err != nil {
			closeProcs(found)
			return nil, err
		}
		if !ok {
			continue
		}
		found = append(found, p)
	}
	return found, nil
}
