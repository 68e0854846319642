package fscred

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs f with c's file-system credentials and returns its error.
//
// When c is the calling process's own effective uid, f runs on the
// calling goroutine with the process's credentials, which are then c's own
// (root acting for root, a user's own daemon for its user, sdbuild run
// --local). Otherwise f runs on a locked OS thread whose fsuid, fsgid and
// groups are switched to c's (setfsuid, setfsgid and setgroups act on one
// thread in the kernel); switching fsuid away from 0 also drops the
// thread's CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER and
// CAP_CHOWN in effect for file-system checks. That thread is never given
// back to the Go scheduler: it exits with the goroutine. Switching needs
// CAP_SETUID and CAP_SETGID; without them Do fails rather than run f as
// someone else.
func Do(c Cred, f func() error) error {
	if c.UID == os.Geteuid() {
		return f()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Deliberately no UnlockOSThread: the thread's credentials change.
		if err := becomeOnThread(c); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

// becomeOnThread switches the calling thread's file-system identity to c's
// and checks that the switch took: setfsuid and setfsgid report no error,
// only the previous value.
func becomeOnThread(c Cred) error {
	groups := c.Groups
	if groups == nil {
		groups = []int{} // setgroups(0, NULL): no supplementary groups, never root's
	}
	if err := unix.Setgroups(groups); err != nil {
		return fmt.Errorf("act as uid %d: setgroups %v: %w", c.UID, c.Groups, err)
	}
	unix.Setfsgid(c.GID)
	unix.Setfsuid(c.UID)
	gid, _ := unix.SetfsgidRetGid(-1)
	uid, _ := unix.SetfsuidRetUid(-1)
	if uid != c.UID || gid != c.GID {
		return fmt.Errorf("act as uid %d gid %d: the thread's file-system ids are %d and %d (switching ids needs CAP_SETUID and CAP_SETGID)", c.UID, c.GID, uid, gid)
	}
	return nil
}

// DoOnThread runs f on the calling thread, which must be locked to its
// goroutine, with c's file-system credentials, and gives the thread its
// own back afterwards: for a process that must stay on its one thread
// (sandbox init, whose namespaces and keyring belong to it). When c is the
// process's own effective uid, f just runs.
func DoOnThread(c Cred, f func() error) (err error) {
	if c.UID == os.Geteuid() {
		return f()
	}
	groups, err := unix.Getgroups()
	if err != nil {
		return fmt.Errorf("act as uid %d: getgroups: %w", c.UID, err)
	}
	uid, gid := os.Geteuid(), os.Getegid()
	defer func() {
		// Restoring the fs ids raises the file capabilities that leaving
		// uid 0 dropped (the kernel does both on setfsuid).
		unix.Setfsuid(uid)
		unix.Setfsgid(gid)
		gerr := unix.Setgroups(groups)
		nuid, _ := unix.SetfsuidRetUid(-1)
		ngid, _ := unix.SetfsgidRetGid(-1)
		if gerr != nil || nuid != uid || ngid != gid {
			// The thread keeps another user's identity: nothing may
			// run on it any more.
			panic(fmt.Sprintf("fscred: restore uid %d gid %d groups %v after acting as uid %d: fs ids %d %d, setgroups %v", uid, gid, groups, c.UID, nuid, ngid, gerr))
		}
	}()
	if err := becomeOnThread(c); err != nil {
		return err
	}
	return f()
}
