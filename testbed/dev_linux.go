package testbed

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// devStaging is where the private /dev is put together before it is moved
// over /dev; it lies on the testbed's own /run.
const devStaging = "/run/sdbuild-testbed-dev"

// requiredDevNodes must exist on the host; the rest of devNodes are optional.
var requiredDevNodes = map[string]bool{"null": true, "zero": true, "full": true, "random": true, "urandom": true, "tty": true}

// buildDev mounts a private /dev: the host's /dev is shared, and systemd as
// PID 1 would create /dev/log and mount points in it and reset and write the
// machine's console. console becomes /dev/console, so the console output
// reaches Boot's Log.
func buildDev(console string) error {
	if err := os.Mkdir(devStaging, 0o755); err != nil {
		return err
	}
	if err := mount("tmpfs", devStaging, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755,size=4m"); err != nil {
		return err
	}
	for _, n := range devNodes {
		err := bindFile(filepath.Join("/dev", n), filepath.Join(devStaging, n))
		if errors.Is(err, fs.ErrNotExist) && !requiredDevNodes[n] {
			continue
		}
		if err != nil {
			return err
		}
	}
	if err := bindFile(console, filepath.Join(devStaging, "console")); err != nil {
		return err
	}
	pts := filepath.Join(devStaging, "pts")
	if err := os.Mkdir(pts, 0o755); err != nil {
		return err
	}
	if err := mount("devpts", pts, "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
		return err
	}
	shm := filepath.Join(devStaging, "shm")
	if err := os.Mkdir(shm, 0o755); err != nil {
		return err
	}
	if err := mount("tmpfs", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return err
	}
	for _, l := range devLinks {
		if err := os.Symlink(l[0], filepath.Join(devStaging, l[1])); err != nil {
			return err
		}
	}
	if err := mount(devStaging, "/dev", "", unix.MS_MOVE, ""); err != nil {
		return err
	}
	return os.Remove(devStaging)
}

// bindFile bind-mounts the file src onto a new empty file dst.
func bindFile(src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	f.Close()
	if err := mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s: %w", src, err)
	}
	return nil
}
