package daemon

import (
	"errors"
	"testing"
	"time"

	"github.com/sdbuild/sdbuild/api"
)

// show, cancel, logs and enter take a unique prefix of an id, among the
// builds the caller may see.
func TestFindByPrefix(t *testing.T) {
	var n notes
	d := newTestDaemon(t, &n)
	for _, b := range []struct {
		id  string
		uid uint32
	}{{"aaa111000000", 1000}, {"aaa222000000", 1000}, {"bbb111000000", 1001}, {"abc000000000", 1001}} {
		if err := d.store.Put(&api.Build{ID: b.id, UID: b.uid, Slot: -1, Args: []string{"true"},
			Outcome: api.Outcome{Status: api.StatusSucceeded}, Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	alice := &peer{name: "alice", uid: 1000}
	bob := &peer{name: "bob", uid: 1001}
	root := &peer{name: "root", uid: 0, trusted: true}
	for _, tt := range []struct {
		p      *peer
		id     string
		want   string
		errIs  error
		errMsg string
	}{
		{alice, "aaa111000000", "aaa111000000", nil, ""},
		{alice, "aaa1", "aaa111000000", nil, ""},
		{alice, "aaa", "", errBadInput, `build id "aaa" is ambiguous: it begins aaa111000000, aaa222000000; give more of it`},
		{alice, "bbb", "", ErrNotFound, ""},
		{alice, "bbb111000000", "", ErrNotFound, ""},
		{alice, "a", "", errBadInput, ""},   // abc… is bob's: not counted
		{bob, "a", "abc000000000", nil, ""}, // alice's are not counted
		{root, "bbb", "bbb111000000", nil, ""},
		{root, "a", "", errBadInput, ""},
		{alice, "ccc", "", ErrNotFound, ""},
	} {
		b, _, err := d.find(tt.p, tt.id)
		switch {
		case tt.errIs != nil:
			if !errors.Is(err, tt.errIs) || tt.errMsg != "" && err.Error() != "bad input: "+tt.errMsg {
				t.Errorf("find(%s, %q) = %v, want %v %q", tt.p.name, tt.id, err, tt.errIs, tt.errMsg)
			}
		case err != nil || b.ID != tt.want:
			t.Errorf("find(%s, %q) = %v, %v; want %s", tt.p.name, tt.id, b, err, tt.want)
		}
	}
}
