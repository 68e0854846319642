package api

import "testing"

func TestExitText(t *testing.T) {
	for _, tt := range []struct {
		code, signal int
		core         bool
		want         string
	}{
		{3, 0, false, "exited with status 3"},
		{139, 11, false, "killed by signal SEGV (core not dumped)"},
		{134, 6, true, "killed by signal ABRT (core dumped)"},
		{137, 9, false, "killed by signal KILL (core not dumped)"},
		{128 + 99, 99, false, "killed by signal 99 (core not dumped)"},
	} {
		if got := ExitText(tt.code, tt.signal, tt.core); got != tt.want {
			t.Errorf("ExitText(%d, %d, %v) = %q, want %q", tt.code, tt.signal, tt.core, got, tt.want)
		}
	}
	if got, want := OOMText("MemoryMax=1G"), "killed by the OOM killer (MemoryMax=1G)"; got != want {
		t.Errorf("OOMText = %q, want %q", got, want)
	}
}
