package enter

import (
	"reflect"
	"strings"
	"testing"
)

func TestTerm(t *testing.T) {
	tests := []struct {
		env     []string
		want    string
		wantErr string
	}{
		{nil, "", ""},
		{[]string{"TERM=xterm-256color"}, "xterm-256color", ""},
		{[]string{"TERM=a", "TERM=b"}, "b", ""},
		{[]string{"PATH=/tmp"}, "", "only TERM may be passed"},
		{[]string{"LD_PRELOAD=/x.so"}, "", "only TERM may be passed"},
		{[]string{"TERM=a b"}, "", "not a terminal type"},
		{[]string{"TERM=a\x1b"}, "", "not a terminal type"},
		{[]string{"TERM=" + strings.Repeat("x", 65)}, "", "not a terminal type"},
	}
	for _, tt := range tests {
		got, err := Term(tt.env)
		if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Term(%q) = %q, %v; want %q, error %q", tt.env, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestEnviron(t *testing.T) {
	want := []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/homeless-shelter", "SDBUILD_BUILD_ID=0123456789ab", "TERM=vt100"}
	if got := environ("0123456789ab", "vt100"); !reflect.DeepEqual(got, want) {
		t.Errorf("environ = %q, want %q", got, want)
	}
	if got := environ("0123456789ab", ""); !reflect.DeepEqual(got, want[:3]) {
		t.Errorf("environ without TERM = %q, want %q", got, want[:3])
	}
}
