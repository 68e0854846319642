package sandbox

import (
	"os"

	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// readDelegateFiles reads the delegation files for a systemd-cgroup build
// while init still sees the host's /sys.
func readDelegateFiles(s *Spec) error {
	if !s.Features.SystemdCgroup {
		return nil
	}
	_, err := cgroup2.DelegateFiles()
	return err
}

// chownCgroupOnThread gives the build's delegated cgroup, dir, to the
// builder's root: the directory and the delegation files. init does it in
// every mode, as for the build directories.
func chownCgroupOnThread(s *Spec, dir *os.File) error {
	if dir == nil {
		return nil
	}
	uid, gid := s.slotBase()
	return cgroup2.Delegate(dir, uid, gid)
}
