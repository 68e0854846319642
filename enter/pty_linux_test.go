package enter

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenPTY(t *testing.T) {
	master, slave, err := openPTY(30, 100)
	if err != nil {
		t.Skipf("no pty here: %v", err) // /dev/ptmx is there on every machine sdbuild runs on
	}
	defer master.Close()
	defer slave.Close()
	ws, err := unix.IoctlGetWinsize(int(slave.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Row != 30 || ws.Col != 100 {
		t.Errorf("window size %+v, %v; want 30x100", ws, err)
	}
	if _, err := master.Write([]byte("hi\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, err := slave.Read(buf); err != nil || string(buf[:n]) != "hi\n" {
		t.Errorf("slave read %q, %v; want the master's line", buf[:n], err)
	}
	setWinsize(master, 40, 120)
	if ws, err := unix.IoctlGetWinsize(int(slave.Fd()), unix.TIOCGWINSZ); err != nil || ws.Row != 40 || ws.Col != 120 {
		t.Errorf("window size after resize %+v, %v; want 40x120", ws, err)
	}
	m2, s2, err := openPTY(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	defer s2.Close()
	if ws, err := unix.IoctlGetWinsize(int(s2.Fd()), unix.TIOCGWINSZ); err != nil || ws.Row != 24 || ws.Col != 80 {
		t.Errorf("default window size %+v, %v; want 24x80", ws, err)
	}
}
