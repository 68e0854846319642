package history

import (
	"reflect"
	"testing"

	"github.com/sdbuild/sdbuild/api"
)

func TestIDsWithPrefix(t *testing.T) {
	s := mustOpen(t, testPath(t))
	for _, i := range []int{1, 2, 0x11, 0x12} {
		mustPut(t, s, testBuild(i, 1000, api.StatusSucceeded, ""))
	}
	for _, tt := range []struct {
		prefix string
		max    int
		want   []string
	}{
		{"00000b00001", 10, []string{"00000b000011", "00000b000012"}},
		{"00000b000002", 10, []string{"00000b000002"}},
		{"00000b", 10, []string{"00000b000001", "00000b000002", "00000b000011", "00000b000012"}},
		{"00000b", 2, []string{"00000b000001", "00000b000002"}},
		{"ff", 10, nil},
	} {
		got, err := s.IDsWithPrefix(tt.prefix, tt.max)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("IDsWithPrefix(%q, %d) = %v, %v; want %v", tt.prefix, tt.max, got, err, tt.want)
		}
	}
}
