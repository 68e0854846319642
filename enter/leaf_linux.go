package enter

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// makeLeaf creates the session's cgroup in the build's scope and opens it
// for clone. A leaf of its own, not the scope itself: a scope whose
// controllers are delegated (systemd-cgroup) holds processes only in its
// leaves, and the session can then be killed without touching the build.
func makeLeaf(scope string) (rel string, fd int, err error) {
	var b [6]byte
	rand.Read(b[:])
	rel = scope + "/sdbuild-enter-" + hex.EncodeToString(b[:])
	dir, err := cgroup2.Dir(rel)
	if err != nil {
		return "", -1, err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", -1, fmt.Errorf("create the session's cgroup: %w", err)
	}
	fd, err = unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Rmdir(dir)
		return "", -1, fmt.Errorf("open the session's cgroup %s: %w", dir, err)
	}
	return rel, fd, nil
}

// removeLeaf removes the session's cgroup rel once its processes are gone
// (the kernel refuses to remove a populated cgroup: EBUSY until then),
// waiting on its cgroup.events rather than retrying. The session's cgroup
// has no children: it is root's, and the session runs as the build's ids.
func removeLeaf(rel string) error {
	dir, err := cgroup2.Dir(rel)
	if err != nil {
		return err
	}
	w, err := cgroup2.WatchDir(dir)
	if err != nil || w == nil {
		return err // nil: the cgroup is gone already
	}
	_, err = w.WaitEmpty(time.Now().Add(drainTimeout))
	w.Close()
	if err != nil {
		return fmt.Errorf("remove session cgroup %s: %w", dir, err)
	}
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove session cgroup %s: %w", dir, err)
	}
	return nil
}
