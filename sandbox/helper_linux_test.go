package sandbox

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// helperPath is where the test binary appears inside a sandbox when a test
// needs to look from the inside with syscalls a shell cannot make.
const helperPath = "/sdtest"

// helperMain runs when the test binary is executed as /sdtest inside a
// sandbox. Each command prints one line a test compares.
func helperMain(args []string) int {
	if len(args) == 0 {
		fmt.Println("usage: sdtest CMD")
		return 2
	}
	switch args[0] {
	case "fds":
		// Probe fds with fcntl before this process opens any file of its
		// own (a directory listing of /proc/self/fd would show its own fd).
		var open []string
		for fd := 0; fd < 1024; fd++ {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
				open = append(open, strconv.Itoa(fd))
			}
		}
		fmt.Println(strings.Join(open, " "))
	case "umount":
		fmt.Println(errName(unix.Unmount(args[1], 0)))
	case "umount-detach":
		fmt.Println(errName(unix.Unmount(args[1], unix.MNT_DETACH)))
	case "remount-rw":
		fmt.Println(errName(unix.Mount("", args[1], "", unix.MS_REMOUNT|unix.MS_BIND, "")))
	case "setattr-rw":
		attr := unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY}
		fmt.Println(errName(unix.MountSetattr(unix.AT_FDCWD, args[1], 0, &attr)))
	case "kvm":
		// KVM_GET_API_VERSION: answers 12 on every Linux since 2.6.22.
		f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
		if err != nil {
			fmt.Println(errName(err))
			return 0
		}
		v, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), 0xAE00, 0)
		fmt.Println(v, errName(errnoErr(errno)))
	case "open-rw":
		f, err := os.OpenFile(args[1], os.O_RDWR, 0)
		if err == nil {
			f.Close()
		}
		fmt.Println(errName(err))
	case "keyring":
		id, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
		fmt.Println(id, errName(err))
	case "loopback":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println("listen:", err)
			return 1
		}
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			fmt.Println("dial:", err)
			return 1
		}
		c.Close()
		fmt.Println("ok")
	case "connect":
		c, err := net.Dial("tcp", args[1])
		if err == nil {
			c.Close()
		}
		fmt.Println(errName(err))
	case "mkdir-in":
		fmt.Println(errName(os.Mkdir(filepath.Join(args[1], "sdtest-new"), 0o755)))
	default:
		fmt.Println("unknown helper command", args[0])
		return 2
	}
	return 0
}

// errName prints an error as its errno name (EINVAL, EPERM, …) or "ok".
func errName(err error) string {
	if err == nil {
		return "ok"
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
