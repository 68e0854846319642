package outputs

import "testing"

func TestOwnerCheck(t *testing.T) {
	tests := []struct {
		owner Owner
		ok    bool
	}{
		{Owner{0, 0}, true},
		{Owner{1000, 1000}, true},
		{Owner{3758096400, 3758096401}, true},
		{Owner{maxID, maxID}, true},
		{Owner{-1, 0}, false},
		{Owner{0, -1}, false},
		{Owner{-1, -1}, false},
		{Owner{maxID + 1, 0}, false}, // (uid_t)-1: chown would leave the uid unchanged
		{Owner{0, maxID + 1}, false},
	}
	for _, tt := range tests {
		err := tt.owner.check()
		if (err == nil) != tt.ok {
			t.Errorf("Owner%v.check() = %v, want ok=%v", tt.owner, err, tt.ok)
		}
	}
}
