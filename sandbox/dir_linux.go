package sandbox

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// buildDirs are the build's own host directories below Spec.Dir, with the
// mode each gets. root is the mount point of the sandbox's tmpfs root and
// stays root's; the others are bound into the sandbox writable and belong
// to the builder's host id.
var buildDirs = []struct {
	name    string
	mode    os.FileMode
	builder bool
}{
	{"root", 0o700, false},
	{"build", 0o700, true},
	{"tmp", os.ModeSticky | 0o777, true},
	{"out", 0o755, true},
}

// PrepareDir creates dir, which must not exist, with the subdirectories a
// sandbox needs; init gives the builder the ones it writes. dir's parent
// must be a directory only its owner can enter (CVE-2024-38531: a build
// dir reachable by others can be raced or opened up by the build itself).
func PrepareDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("create build directory: %w", err)
	}
	for _, d := range buildDirs {
		p := dir + "/" + d.name
		if err := os.Mkdir(p, d.mode); err != nil {
			return fmt.Errorf("create build directory: %w", err)
		}
		// Mkdir applies the umask and drops the sticky bit on some
		// systems; set the mode exactly.
		if err := os.Chmod(p, d.mode); err != nil {
			return fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	return nil
}

// chownBuildDirsOnThread gives the directories the builder writes to its
// first ids. init does it, in every mode: as root, or as root of its own
// user namespace, where the caller's subordinate ids are mapped (the
// caller itself cannot chown to them). They are fresh and the build has
// not run yet; they are opened without following links all the same.
func chownBuildDirsOnThread(s *Spec) error {
	uid, gid := s.slotBase()
	dirfd, err := unix.Open(s.Dir, unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", s.Dir, err)
	}
	defer unix.Close(dirfd)
	for _, d := range buildDirs {
		if !d.builder {
			continue
		}
		if err := unix.Fchownat(dirfd, d.name, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown %s/%s to host uid %d: %w", s.Dir, d.name, s.HostID, err)
		}
	}
	return nil
}
