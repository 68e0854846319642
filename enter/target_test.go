package enter

import "testing"

// A target that could put the session anywhere but below a scope is
// refused before anything is read or created.
func TestTargetCheck(t *testing.T) {
	tests := []struct {
		t    Target
		want bool
	}{
		{Target{ID: "0123456789ab", Init: 42, Cgroup: "/sdbuild.slice/sdbuild-0123456789ab.scope"}, true},
		{Target{ID: "0123456789ab", Init: 42, Cgroup: "/user.slice/user-1000.slice/user@1000.service/sdbuild.slice/sdbuild-0123456789ab.scope"}, true},
		{Target{ID: "0123456789ab", Init: 42, Cgroup: ""}, false},  // not recorded: the hierarchy's root
		{Target{ID: "0123456789ab", Init: 42, Cgroup: "/"}, false}, // the root itself
		{Target{ID: "0123456789ab", Init: 42, Cgroup: "sdbuild.slice/sdbuild-0123456789ab.scope"}, false},
		{Target{ID: "0123456789ab", Init: 42, Cgroup: "/sdbuild.slice/../init.scope"}, false},
		{Target{ID: "0123456789ab", Init: 42, Cgroup: "/sdbuild.slice/sdbuild-0123456789ab.scope/"}, false},
		{Target{ID: "0123456789ab", Init: 0, Cgroup: "/sdbuild.slice/sdbuild-0123456789ab.scope"}, false},
	}
	for _, tt := range tests {
		if err := tt.t.check(); (err == nil) != tt.want {
			t.Errorf("%+v.check() = %v, want ok %v", tt.t, err, tt.want)
		}
	}
}
