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

// featureDevices are the host devices a feature gives a build.
func (s *Spec) featureDevices() []string {
	var devs []string
	if s.Features.KVM {
		devs = append(devs, DevKVM)
	}
	if s.Features.TUN {
		devs = append(devs, DevTUN)
	}
	return devs
}

// CheckDevice reports whether the host has the character device path a
// feature needs.
func CheckDevice(path string) error {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return fmt.Errorf("%s is not a character device", path)
	}
	return nil
}

// makeOwnDevice gives the build its own node for a host device: the same
// major and minor, owned by the build's host id with mode 0600, in the
// build's private /dev. Host permissions stay as they are (often 0600 or
// 0660 root:kvm); the build gets this one device and no host group.
func makeOwnDevice(rootfd int, host string, owner uint32) error {
	var st unix.Stat_t
	if err := unix.Stat(host, &st); err != nil {
		return fmt.Errorf("device %s: %w", host, err)
	}
	dir, base := splitPath(host)
	pfd, err := openDirAt(rootfd, dir, 0o755)
	if err != nil {
		return fmt.Errorf("device %s: %w", host, err)
	}
	defer unix.Close(pfd)
	if err := unix.Mknodat(pfd, base, unix.S_IFCHR|0o600, int(st.Rdev)); err != nil {
		return fmt.Errorf("device %s: mknod: %w", host, err)
	}
	if err := unix.Fchownat(pfd, base, int(owner), int(owner), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("device %s: chown: %w", host, err)
	}
	return nil
}

// setupDev builds a minimal /dev: a small tmpfs with the device nodes
// above, a devpts of its own (newinstance: the build cannot see or open the
// host's ptys) and a tmpfs /dev/shm. The tmpfs is made read-only later.
func setupDev(rootfd int, s *Spec) error {
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
	for _, d := range s.featureDevices() {
		if err := makeOwnDevice(rootfd, d, s.HostID); err != nil {
			return err
		}
	}
	return nil
}
