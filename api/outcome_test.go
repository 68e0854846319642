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
	for _, tt := range []struct {
		text  func(string) string
		name  string
		limit string
		want  string
	}{
		{OOMText, "OOMText", "MemoryMax=1G", "killed by the OOM killer (MemoryMax=1G)"},
		{OOMText, "OOMText", "", "killed by the OOM killer"},
		{OOMProcessText, "OOMProcessText", "MemoryMax=512M", "the OOM killer killed a process of the build (MemoryMax=512M)"},
		{OOMProcessText, "OOMProcessText", "", "the OOM killer killed a process of the build"},
	} {
		if got := tt.text(tt.limit); got != tt.want {
			t.Errorf("%s(%q) = %q, want %q", tt.name, tt.limit, got, tt.want)
		}
	}
}
