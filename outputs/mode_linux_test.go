package outputs

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestOutputMode(t *testing.T) {
	tests := []struct {
		mode, want uint32
	}{
		{unix.S_IFREG | 0o644, 0o644},
		{unix.S_IFREG | 0o755, 0o755},
		{unix.S_IFREG | 0o4755, 0o755}, // setuid
		{unix.S_IFREG | 0o2755, 0o755}, // setgid
		{unix.S_IFDIR | 0o1777, 0o755}, // sticky, world-writable
		{unix.S_IFREG | 0o664, 0o644},  // group-writable
		{unix.S_IFREG | 0o666, 0o644},  // world-writable
		{unix.S_IFREG | 0o7777, 0o755},
		{unix.S_IFDIR | 0o000, 0o000},
		{unix.S_IFREG | 0o500, 0o500},
	}
	for _, tt := range tests {
		if got := outputMode(tt.mode); got != tt.want {
			t.Errorf("outputMode(%#o) = %#o, want %#o", tt.mode, got, tt.want)
		}
	}
}

func TestKindName(t *testing.T) {
	tests := []struct {
		mode uint32
		want string
	}{
		{unix.S_IFIFO | 0o644, "named pipe"},
		{unix.S_IFSOCK | 0o755, "socket"},
		{unix.S_IFCHR | 0o666, "character device"},
		{unix.S_IFBLK | 0o660, "block device"},
		{0o170000, "file of unknown type 0170000"},
	}
	for _, tt := range tests {
		if got := kindName(tt.mode); got != tt.want {
			t.Errorf("kindName(%#o) = %q, want %q", tt.mode, got, tt.want)
		}
	}
}
