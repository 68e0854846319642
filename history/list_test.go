package history

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/api"
	bolt "go.etcd.io/bbolt"
)

var statusCycle = []api.Status{
	api.StatusSucceeded, api.StatusRunning, api.StatusFailed, api.StatusQueued, api.StatusSucceeded,
}

// listFixture stores 60 builds: uid 1000+i%3, status cycling through
// statusCycle, named "lib-i" or (every seventh) "doc-i". It returns them in
// creation order.
func listFixture(t *testing.T) (*Store, []*api.Build) {
	s := mustOpen(t, testPath(t))
	var bs []*api.Build
	for i := range 60 {
		name := fmt.Sprintf("lib-%d", i)
		if i%7 == 0 {
			name = fmt.Sprintf("doc-%d", i)
		}
		bs = append(bs, testBuild(i, uint32(1000+i%3), statusCycle[i%len(statusCycle)], name))
	}
	if err := s.PutAll(bs); err != nil {
		t.Fatal(err)
	}
	return s, bs
}

// naiveList is List's specification: filter the builds in creation order,
// newest first, stopping at the limit.
func naiveList(bs []*api.Build, f Filter) []string {
	limit := f.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	end := len(bs)
	if f.Before != "" {
		end = slices.IndexFunc(bs, func(b *api.Build) bool { return b.ID == f.Before })
	}
	out := []string{}
	for i := end - 1; i >= 0 && (limit < 0 || len(out) < limit); i-- {
		b := bs[i]
		if (f.UID == nil || *f.UID == b.UID) &&
			(len(f.Statuses) == 0 || slices.Contains(f.Statuses, b.Status)) &&
			strings.Contains(b.Name, f.Name) {
			out = append(out, b.ID)
		}
	}
	return out
}

func uidp(u uint32) *uint32 { return &u }

func TestList(t *testing.T) {
	s, bs := listFixture(t)
	id := func(i int) string { return bs[i].ID }
	tests := []struct {
		name string
		f    Filter
		want []string // nil: only compare with naiveList
	}{
		{"default limit", Filter{}, nil},
		{"limit", Filter{Limit: 3}, []string{id(59), id(58), id(57)}},
		{"no limit", Filter{Limit: -1}, nil},
		{"uid", Filter{UID: uidp(1001), Limit: 3}, []string{id(58), id(55), id(52)}},
		{"unknown uid", Filter{UID: uidp(7)}, []string{}},
		{"running", Filter{Statuses: []api.Status{api.StatusRunning}, Limit: 2}, []string{id(56), id(51)}},
		{"active", Filter{Statuses: []api.Status{api.StatusQueued, api.StatusRunning}, Limit: -1}, nil},
		{"active of uid", Filter{UID: uidp(1002), Statuses: []api.Status{api.StatusQueued, api.StatusRunning}, Limit: -1}, nil},
		{"mixed statuses", Filter{Statuses: []api.Status{api.StatusFailed, api.StatusQueued}, Limit: 4}, []string{id(58), id(57), id(53), id(52)}},
		{"interrupted (none)", Filter{Statuses: []api.Status{api.StatusInterrupted}}, []string{}},
		{"name", Filter{Name: "doc-", Limit: 3}, []string{id(56), id(49), id(42)}},
		{"name exact", Filter{Name: "lib-13"}, []string{id(13)}},
		{"name and uid", Filter{Name: "doc", UID: uidp(1000), Limit: -1}, []string{id(42), id(21), id(0)}},
		{"all filters", Filter{Name: "lib-1", UID: uidp(1001), Statuses: []api.Status{api.StatusSucceeded}, Limit: -1}, nil},
		{"before", Filter{Before: id(10)}, []string{id(9), id(8), id(7), id(6), id(5), id(4), id(3), id(2), id(1), id(0)}},
		{"before oldest", Filter{Before: id(0)}, []string{}},
		{"before with uid", Filter{Before: id(10), UID: uidp(1000)}, []string{id(9), id(6), id(3), id(0)}},
		{"before with active", Filter{Before: id(9), Statuses: []api.Status{api.StatusRunning, api.StatusQueued}}, []string{id(8), id(6), id(3), id(1)}},
		{"before with name", Filter{Before: id(30), Name: "doc"}, []string{id(28), id(21), id(14), id(7), id(0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.List(tc.f)
			if err != nil {
				t.Fatalf("List(%+v): %v", tc.f, err)
			}
			g := ids(got)
			if tc.want != nil && !reflect.DeepEqual(g, tc.want) {
				t.Errorf("List(%+v) = %v, want %v", tc.f, g, tc.want)
			}
			if naive := naiveList(bs, tc.f); !reflect.DeepEqual(g, naive) {
				t.Errorf("List(%+v) = %v, want %v (naive)", tc.f, g, naive)
			}
		})
	}
}

func TestListDefaultLimit(t *testing.T) {
	s, _ := listFixture(t)
	got, err := s.List(Filter{})
	if err != nil || len(got) != DefaultLimit {
		t.Fatalf("List(Filter{}) = %d builds, %v; want %d", len(got), err, DefaultLimit)
	}
}

// Paging with Before, Limit builds at a time, visits every build once, in
// order, whatever the filter.
func TestListPaging(t *testing.T) {
	s, bs := listFixture(t)
	for _, f := range []Filter{
		{Limit: 7},
		{Limit: 4, UID: uidp(1002)},
		{Limit: 5, Statuses: []api.Status{api.StatusQueued, api.StatusRunning}},
		{Limit: 2, Name: "doc"},
	} {
		var got []string
		for page := 0; ; page++ {
			l, err := s.List(f)
			if err != nil {
				t.Fatalf("List(%+v): %v", f, err)
			}
			got = append(got, ids(l)...)
			if len(l) < f.Limit || page > len(bs) {
				break
			}
			f.Before = l[len(l)-1].ID
		}
		f.Before, f.Limit = "", -1
		if want := naiveList(bs, f); !reflect.DeepEqual(got, want) {
			t.Errorf("paging through %+v = %v, want %v", f, got, want)
		}
	}
}

func TestListBeforeUnknown(t *testing.T) {
	s, _ := listFixture(t)
	_, err := s.List(Filter{Before: "feedfacecafe"})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "feedfacecafe") {
		t.Fatalf("List(before unknown id) = %v, want ErrNotFound naming it", err)
	}
}

func TestListEmpty(t *testing.T) {
	s := mustOpen(t, testPath(t))
	for _, f := range []Filter{{}, {UID: uidp(0)}, {Statuses: []api.Status{api.StatusQueued}}, {Name: "x"}} {
		if got, err := s.List(f); err != nil || len(got) != 0 {
			t.Errorf("List(%+v) on an empty history = %v, %v; want nothing", f, ids(got), err)
		}
	}
}

// List's speed rests on walking the smallest index that can hold the
// answer: the active set for queued/running, a user's own entries for a UID
// filter. Count what each filter walks.
func TestChooseWalk(t *testing.T) {
	s, bs := listFixture(t)
	active := []api.Status{api.StatusQueued, api.StatusRunning}
	tests := []struct {
		name string
		f    Filter
		want func(*api.Build) bool // which builds the walk visits
	}{
		{"none", Filter{}, func(*api.Build) bool { return true }},
		{"uid", Filter{UID: uidp(1001)}, func(b *api.Build) bool { return b.UID == 1001 }},
		{"name", Filter{Name: "doc"}, func(*api.Build) bool { return true }},
		{"active", Filter{Statuses: active}, func(b *api.Build) bool { return !b.Status.Finished() }},
		{"queued of uid", Filter{UID: uidp(1001), Statuses: active[:1]}, func(b *api.Build) bool { return !b.Status.Finished() }},
		{"a final status", Filter{Statuses: []api.Status{api.StatusRunning, api.StatusFailed}}, func(*api.Build) bool { return true }},
	}
	for _, tc := range tests {
		var want []string
		for i := len(bs) - 1; i >= 0; i-- {
			if tc.want(bs[i]) {
				want = append(want, bs[i].ID)
			}
		}
		var got []string
		err := s.db.View(func(tx *bolt.Tx) error {
			w := chooseWalk(tx, tc.f)
			for seq, v := w.seek(seqKey(math.MaxUint64)); seq != nil; seq, v = w.prev() {
				b, err := decodeBuild(seq, v)
				if err != nil {
					return err
				}
				got = append(got, b.ID)
			}
			return nil
		})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: walk = %v, %v; want %v", tc.name, got, err, want)
		}
	}
}

// Name filters first search the raw JSON for the name; names that JSON
// escapes must still be found, and a hit outside the name must not count.
func TestListName(t *testing.T) {
	s := mustOpen(t, testPath(t))
	names := []string{"a<b&c>", `q"uo\te`, "ünïcode-x", "tab\there", "plain"}
	var bs []*api.Build
	for i, n := range names {
		b := testBuild(i, 1000, api.StatusSucceeded, n)
		b.Args = []string{"make", "plain"}
		bs = append(bs, b)
	}
	if err := s.PutAll(bs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want []int // indexes into names, newest first
	}{
		{"<b&", []int{0}},
		{"c>", []int{0}},
		{`"uo\`, []int{1}},
		{"ïc", []int{2}},
		{"x", []int{2}},
		{"\th", []int{3}},
		{"plain", []int{4}}, // also in every record's args
		{"make", nil},       // only in args
		{"e", []int{3, 2, 1}},
	}
	for _, tc := range tests {
		got, err := s.List(Filter{Name: tc.name})
		want := []string{}
		for _, i := range tc.want {
			want = append(want, bs[i].ID)
		}
		if err != nil || !reflect.DeepEqual(ids(got), want) {
			t.Errorf("List(name %q) = %v, %v; want %v", tc.name, ids(got), err, want)
		}
	}
}
