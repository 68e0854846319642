package outputs

import "testing"

func TestOwnerCheck(t *testing.T) {
	tests := []struct {
		owner Owner
		ok    bool
	}{
		{Owner{UID: 0, GID: 0}, true},
		{Owner{UID: 1000, GID: 1000}, true},
		{Owner{UID: 3758096400, GID: 3758096401}, true},
		{Owner{UID: maxID, GID: maxID}, true},
		{Owner{UID: -1, GID: 0}, false},
		{Owner{UID: 0, GID: -1}, false},
		{Owner{UID: -1, GID: -1}, false},
		{Owner{UID: maxID + 1, GID: 0}, false}, // (uid_t)-1: chown would leave the uid unchanged
		{Owner{UID: 0, GID: maxID + 1}, false},
	}
	for _, tt := range tests {
		err := tt.owner.check()
		if (err == nil) != tt.ok {
			t.Errorf("Owner%v.check() = %v, want ok=%v", tt.owner, err, tt.ok)
		}
	}
}
