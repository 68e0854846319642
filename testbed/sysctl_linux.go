package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// hostSysctls are global settings systemd as PID 1 raises at start-up, with
// no unit to mask: fs.file-max and fs.nr_open to their maxima and, in the
// host's network namespace the testbed shares, net.unix.max_dgram_qlen to 512.
// A read-only /proc/sys would stop it, but nothing under /proc may be
// overmounted (see the package doc), so Boot puts the values back instead.
var hostSysctls = []string{"fs/file-max", "fs/nr_open", "net/unix/max_dgram_qlen"}

// sysctlLock serializes, across processes, the window from reading
// hostSysctls to restoring them: a Boot that read them just after another
// testbed's systemd raised them would "restore" the raised values.
const sysctlLock = "/run/lock/sdbuild-testbed.lock"

// lockSysctls takes sysctlLock; closing the file releases it.
func lockSysctls(ctx context.Context) (*os.File, error) {
	f, err := os.OpenFile(sysctlLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock sysctls: %w", err)
	}
	locked := make(chan error, 1)
	go func() { locked <- unix.Flock(int(f.Fd()), unix.LOCK_EX) }()
	select {
	case err := <-locked:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock sysctls: %w", os.NewSyscallError("flock "+sysctlLock, err))
		}
		return f, nil
	case <-ctx.Done():
		// Release the lock whenever it is granted.
		go func() { <-locked; f.Close() }()
		return nil, fmt.Errorf("lock sysctls: %w", ctx.Err())
	}
}

// readSysctls returns the current values of hostSysctls; unreadable ones are
// left out.
func readSysctls() map[string]string {
	v := make(map[string]string, len(hostSysctls))
	for _, name := range hostSysctls {
		if b, err := os.ReadFile(filepath.Join("/proc/sys", name)); err == nil {
			v[name] = strings.TrimSpace(string(b))
		}
	}
	return v
}

// restoreSysctls writes back every value in before that has changed since.
func restoreSysctls(before map[string]string) error {
	var errs []error
	now := readSysctls()
	for name, old := range before {
		if now[name] == old {
			continue
		}
		if err := os.WriteFile(filepath.Join("/proc/sys", name), []byte(old), 0); err != nil {
			errs = append(errs, fmt.Errorf("restore sysctl %s=%s: %w", name, old, err))
		}
	}
	return errors.Join(errs...)
}
