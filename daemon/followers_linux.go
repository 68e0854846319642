package daemon

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// awaitExit waits until process pid has exited, or deadline has passed.
// It returns false, at once, when it cannot watch the process (no
// pidfd_open: Linux before 5.3), or when the process is the daemon
// itself (an API client in its own process), which never exits first.
func awaitExit(pid int32, deadline time.Time) bool {
	if int(pid) == os.Getpid() {
		return false
	}
	fd, err := unix.PidfdOpen(int(pid), 0)
	if errors.Is(err, unix.ESRCH) {
		return true // gone, and reaped already
	}
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	// A pidfd is readable once its process has exited. The wait is short
	// (a client's exit), so it blocks this goroutine's thread in poll
	// rather than going through the runtime's poller.
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return true
		}
		ms := int((left + time.Millisecond - 1) / time.Millisecond)
		if _, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, ms); !errors.Is(err, unix.EINTR) {
			return true // exited, or the time is up (or poll failed: nothing more to wait for)
		}
	}
}
