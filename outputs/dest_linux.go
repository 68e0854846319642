package outputs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sdbuild/sdbuild/internal/fscred"
)

// dest is where an output is being made: the directory that will hold it,
// resolved as the owner, and the temporary directory in it that becomes
// the output.
type dest struct {
	owner    Owner
	dst      string // as the caller named it, for messages
	base     string // dst's last element
	parentFd int    // O_PATH, resolved with the owner's credentials
	tmpBase  string // the temporary directory's name in parentFd
	tmpFd    int    // the temporary directory, open for reading
}

// openDest resolves parent as the owner, checks base is free there and
// creates the temporary directory, also as the owner: the kernel checks
// the owner's right to create entries in that very directory as it
// creates one. Only the owner's own symlinks on the path are followed,
// with the owner's permissions, as they would be for anything the owner
// ran; the last element is never followed.
func openDest(parent, base, dst string, owner Owner) (*dest, error) {
	d := &dest{owner: owner, dst: dst, base: base, parentFd: -1, tmpFd: -1}
	err := fscred.Do(owner.cred(), func() error {
		fd, err := unix.Open(parent, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("output %s: open its directory %s as uid %d: %w", dst, parent, owner.UID, err)
		}
		d.parentFd = fd
		if err := checkAbsent(fd, base, dst); err != nil {
			return err
		}
		if err := d.makeTemp(); err != nil {
			return fmt.Errorf("output %s: uid %d cannot create entries in %s: %w", dst, owner.UID, parent, err)
		}
		return nil
	})
	if err != nil {
		d.close()
		return nil, err
	}
	// Between the mkdir and the open the owner could have put another
	// directory of theirs in its place; one that is not theirs would make
	// this process write where they could not.
	var st unix.Stat_t
	if err := unix.Fstat(d.tmpFd, &st); err != nil {
		d.close()
		return nil, fmt.Errorf("stat temporary output %s in %s: %w", d.tmpBase, parent, os.NewSyscallError("fstat", err))
	}
	if int(st.Uid) != owner.UID {
		d.close()
		return nil, fmt.Errorf("output %s: temporary directory %s in %s was replaced by one owned by uid %d: %w", dst, d.tmpBase, parent, st.Uid, ErrChanged)
	}
	return d, nil
}

// makeTemp creates and opens a fresh temporary directory next to the
// output, with a random name; it runs as the owner.
func (d *dest) makeTemp() error {
	for range 8 {
		var b [6]byte
		rand.Read(b[:])
		name := "." + d.base + ".sdbuild-" + hex.EncodeToString(b[:])
		err := unix.Mkdirat(d.parentFd, name, 0o700)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return os.NewSyscallError("mkdirat", err)
		}
		d.tmpBase = name
		fd, err := unix.Openat(d.parentFd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", name, os.NewSyscallError("openat", err))
		}
		d.tmpFd = fd
		return nil
	}
	return fmt.Errorf("mkdirat: %w", unix.EEXIST)
}

// publish renames the finished temporary tree to base, as the owner.
// RENAME_NOREPLACE makes "dst must not exist" atomic: a dst that appeared
// after checkAbsent is left alone and reported, never replaced.
func (d *dest) publish() error {
	return fscred.Do(d.owner.cred(), func() error {
		err := unix.Renameat2(d.parentFd, d.tmpBase, d.parentFd, d.base, unix.RENAME_NOREPLACE)
		switch err {
		case nil:
			d.tmpBase = ""
			return nil
		case unix.EEXIST:
			return existsError(d.dst)
		}
		return fmt.Errorf("move output into place at %s: %w", d.dst, os.NewSyscallError("renameat2", err))
	})
}

// removeTemp deletes what is left of the temporary tree, relative to the
// directory fd: /proc/self/fd/N names the directory that fd holds, never
// what its path names now.
func (d *dest) removeTemp() error {
	if d.tmpBase == "" {
		return nil
	}
	return Remove(fmt.Sprintf("/proc/self/fd/%d/%s", d.parentFd, d.tmpBase))
}

func (d *dest) close() {
	for _, fd := range []int{d.tmpFd, d.parentFd} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}
