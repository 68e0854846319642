package sandbox

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// devNodes are the host device nodes a build gets, bind-mounted (init
// could mknod them, but a bind keeps the host's node and its permissions).
var devNodes = []string{"null", "zero", "full", "random", "urandom", "tty"}

// devLinks are the conventional /dev symlinks.
var devLinks = [][2]string{
	{"fd", "/proc/self/fd"},
	{"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"},
	{"ptmx", "pts/ptmx"},
}

// setupDev builds a minimal /dev: a small tmpfs with the device nodes
// above, a devpts of its own (newinstance: the build cannot see or open the
// host's ptys) and a tmpfs /dev/shm. The tmpfs is made read-only later.
func setupDev(rootfd int) error {
	if err := mountFS(rootfd, "/dev", "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755,size=64k,nr_inodes=64"); err != nil {
		return err
	}
	for _, n := range devNodes {
		fd, err := openFileAt(rootfd, "/dev/"+n)
		if err != nil {
			return fmt.Errorf("dev %s: %w", n, err)
		}
		err = bindTree("/dev/"+n, fd, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("dev %s: %w", n, err)
		}
	}
	if err := mountFS(rootfd, "/dev/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
		return err
	}
	if err := mountFS(rootfd, "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return err
	}
	for _, l := range devLinks {
		if err := symlinkAt(rootfd, "/dev/"+l[0], l[1]); err != nil {
			return err
		}
	}
	return nil
}
