package build

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/outputs"
)

// When a build's /build is kept (Request.Keep).
const (
	KeepNever  = ""
	KeepFailed = "failed" // when the build did not succeed
	KeepAlways = "always"
)

// keeps reports whether a build of req that ended with status keeps its
// /build.
func (req *Request) keeps(status api.Status) bool {
	switch req.Keep {
	case KeepAlways:
		return true
	case KeepFailed:
		return status != api.StatusSucceeded
	}
	return false
}

func checkKeep(k string) error {
	switch k {
	case KeepNever, KeepFailed, KeepAlways:
		return nil
	}
	return fmt.Errorf("keep %q: want %q or %q", k, KeepFailed, KeepAlways)
}

// keep hands a copy of the build's /build (the tree at src, which every
// process of the build has left) to the request's owner, at
// <kept-root>/<uid>/<id>, and records where in res. It copies, never
// chowns, chmods or moves the build's own tree: its every name is the
// build's, and a path through it could lead anywhere by now
// (CVE-2021-27851); outputs.Copy makes fresh inodes owned by the owner,
// created with the owner's credentials, without following a symlink.
// What goes wrong is written to the build's log: the build's own outcome
// stands.
func (r *Runner) keep(src, id string, req *Request, res *Result, log io.Writer) {
	parent, err := keptParent(r.opt.KeptRoot, req.Owner.UID, req.Owner.GID)
	if err == nil {
		dst := filepath.Join(parent, id)
		if err = outputs.Copy(src, dst, req.Owner); err == nil {
			res.KeptDir = dst
			fmt.Fprintf(log, "sdbuild: build directory kept at %s\n", dst)
			return
		}
	}
	fmt.Fprintf(log, "sdbuild: could not keep the build directory: %v\n", err)
}

// keptParent makes <root> (the runner's, 0755) and <root>/<uid> (the
// owner's, 0700) when missing, and checks them when present: a <uid>
// directory that is a symlink or someone else's is refused, not used.
// Nobody but the runner can write in <root>, so nobody can put anything
// else in place of <uid> between the check and the copy.
func keptParent(root string, uid, gid int) (string, error) {
	if root == "" {
		return "", errors.New("no kept-build-dirs directory configured")
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", root, err)
	}
	if err := ownedDir(root, os.Geteuid()); err != nil {
		return "", err
	}
	dir := filepath.Join(root, strconv.Itoa(uid))
	err := os.Mkdir(dir, 0o700)
	switch {
	case err == nil:
		// Just made, in a directory only the runner writes: the path is
		// ours to chown.
		if err := os.Lchown(dir, uid, gid); err != nil {
			os.Remove(dir)
			return "", fmt.Errorf("give %s to uid %d: %w", dir, uid, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	return dir, ownedDir(dir, uid)
}

// ownedDir checks that path is a directory, not a symlink, owned by uid.
func ownedDir(path string, uid int) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || int(st.Uid) != uid {
		return fmt.Errorf("%s: not a directory owned by uid %d; remove it and try again", path, uid)
	}
	return nil
}
