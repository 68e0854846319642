// Package cgroup2 finds the cgroup2 hierarchy and acts on its cgroups:
// the one place that knows where /sys/fs/cgroup is on a unified host and
// /sys/fs/cgroup/unified on a hybrid one, and the only package that reads
// or writes the cgroup file system's files (cgroup.kill, cgroup.procs,
// cgroup.events, cgroup.subtree_control, the controllers' figures).
package cgroup2

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sdbuild/sdbuild/internal/mountinfo"
)

// ErrNoCgroup2 is returned when no cgroup2 hierarchy is mounted.
var ErrNoCgroup2 = errors.New("no cgroup2 hierarchy mounted")

var root struct {
	once sync.Once
	path string
	err  error
}

// Root is where the cgroup2 hierarchy is mounted, read once from
// /proc/self/mountinfo.
func Root() (string, error) {
	root.once.Do(func() {
		f, err := os.Open("/proc/self/mountinfo")
		if err != nil {
			root.err = fmt.Errorf("find cgroup2: %w", err)
			return
		}
		defer f.Close()
		p, ok, err := ParseMount(f)
		switch {
		case err != nil:
			root.err = fmt.Errorf("find cgroup2: %w", err)
		case !ok:
			root.err = ErrNoCgroup2
		default:
			root.path = p
		}
	})
	return root.path, root.err
}

// Dir is the directory of cgroup rel (as systemd's ControlGroup names it,
// relative to the hierarchy's root).
func Dir(rel string) (string, error) {
	r, err := Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(r, rel), nil
}

// Kill SIGKILLs every process in cgroup rel and its descendants in one
// write to cgroup.kill (Linux ≥ 5.14), which, unlike a walk over
// cgroup.procs, cannot be outrun by fork.
func Kill(rel string) error {
	dir, err := Dir(rel)
	if err != nil {
		return err
	}
	return KillDir(dir)
}

// ParseMount returns the mount point of the first cgroup2 mount in a
// /proc/self/mountinfo whose root is the hierarchy's root (a bind mount of a
// subtree would misplace recorded paths). ok is false if there is none.
func ParseMount(r io.Reader) (mountPoint string, ok bool, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		// id parent major:minor root mount-point options [optional...] - fstype source super-options
		pre, post, found := strings.Cut(sc.Text(), " - ")
		if !found {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 1 || qf[0] != "cgroup2" || pf[3] != "/" {
			continue
		}
		return mountinfo.Unescape(pf[4]), true, nil
	}
	if err := sc.Err(); err != nil {
		return "", false, fmt.Errorf("parse mountinfo: %w", err)
	}
	return "", false, nil
}

// ParseOwn returns the cgroup2 path (the "0::" line) of a /proc/PID/cgroup
// file; a hybrid host lists its v1 hierarchies too. Without that line the
// error wraps ErrNoCgroup2.
func ParseOwn(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return p, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("parse cgroup membership: %w", err)
	}
	return "", fmt.Errorf("parse cgroup membership: no cgroup2 (0::) line: %w", ErrNoCgroup2)
}

// Own is the cgroup2 path of process pid ("self" for this process), as
// its /proc/PID/cgroup gives it.
func Own(pid string) (string, error) {
	f, err := os.Open("/proc/" + pid + "/cgroup")
	if err != nil {
		return "", err
	}
	defer f.Close()
	return ParseOwn(f)
}

// Within reports whether cgroup path p is cg or lies below it.
func Within(p, cg string) bool {
	return p == cg || strings.HasPrefix(p, cg+"/")
}
