package daemon

import "testing"

func TestMatchUsers(t *testing.T) {
	tests := []struct {
		list   []string
		name   string
		groups []string
		want   bool
	}{
		{[]string{"*"}, "alice", nil, true},
		{[]string{"root"}, "alice", nil, false},
		{[]string{"root", "alice"}, "alice", nil, true},
		{[]string{"@builders"}, "alice", []string{"users", "builders"}, true},
		{[]string{"@builders"}, "alice", []string{"users"}, false},
		{[]string{"@alice"}, "alice", nil, false}, // a group, not the user
		{nil, "alice", nil, false},
	}
	for _, tt := range tests {
		if got := matchUsers(tt.list, tt.name, tt.groups); got != tt.want {
			t.Errorf("matchUsers(%q, %q, %q) = %v, want %v", tt.list, tt.name, tt.groups, got, tt.want)
		}
	}
}

func TestRefusal(t *testing.T) {
	err := refusal(&peer{name: "nobody"}, []string{"root", "@wheel"})
	if got, want := err.Error(), "user nobody is not allowed to submit builds (allowed-users = root @wheel): forbidden"; got != want {
		t.Errorf("refusal = %q, want %q", got, want)
	}
}

func TestIsBuildUnit(t *testing.T) {
	for unit, want := range map[string]bool{
		UnitName("0123456789ab"):          true,
		"sdbuild-testbed-command-1.scope": false,
		"sdbuild-0123456789ab.service":    false,
		"sdbuild-0123456789abc.scope":     false,
		"other-0123456789ab.scope":        false,
		"sdbuild-0123456789AB.scope":      false,
	} {
		if got := IsBuildUnit(unit); got != want {
			t.Errorf("IsBuildUnit(%q) = %v, want %v", unit, got, want)
		}
	}
}
