package enter

import (
	"reflect"
	"testing"
)

func TestNsenterArgs(t *testing.T) {
	got := nsenterArgs(42, identity{uid: 1000, gid: 100, hostUID: 7, hostGID: 7}, []string{"/bin/sh", "-c", "--wd=/"})
	want := []string{"--target", "42", "--user", "--mount", "--ipc", "--uts", "--net", "--cgroup",
		"--setuid", "1000", "--setgid", "100", "--wd=/proc/42/root/build", "--", "/bin/sh", "-c", "--wd=/"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("nsenterArgs = %q, want %q", got, want)
	}
}
