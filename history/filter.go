package history

import (
	"bytes"
	"slices"
	"strings"

	"github.com/sdbuild/sdbuild/api"
)

// DefaultLimit is how many builds List returns when Filter.Limit is 0.
const DefaultLimit = 50

// Filter selects builds for List. The zero Filter selects the newest
// DefaultLimit builds.
type Filter struct {
	UID      *uint32      // nil: everyone
	Statuses []api.Status // empty: any
	Name     string       // substring of the build's name; "": any
	Limit    int          // 0: DefaultLimit; <0: no limit
	Before   string       // build id: only builds created before it (paging); "": from the newest
}

// matcher applies a Filter to raw records, spending as little decoding as
// it can on the ones it rejects: decoding JSON is most of List's cost.
type matcher struct {
	f Filter
	// literal is Name as it must appear, byte for byte, in the JSON of any
	// record whose name contains it; nil when Name could be escaped. A
	// record without it is rejected without decoding.
	literal []byte
}

func newMatcher(f Filter) *matcher {
	m := &matcher{f: f}
	if f.Name != "" && jsonLiteral(f.Name) {
		m.literal = []byte(f.Name)
	}
	return m
}

// jsonLiteral reports whether s is written into JSON unchanged. encoding/json
// (which wrote every record) escapes only control characters, '"', '\\',
// and, for HTML safety, '<', '>' and '&'; non-ASCII is left out here rather
// than reasoning about invalid UTF-8 and U+2028.
func jsonLiteral(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || strings.IndexByte(`"\<>&`, c) >= 0 {
			return false
		}
	}
	return true
}

// match returns the build in record v if the filter selects it, nil if not.
// indexed says whether v came from an index walk (uids or active): those
// records mostly match, so they are decoded once, in full; records from a
// walk of all builds mostly do not, so the filtered fields are decoded
// first.
func (m *matcher) match(seq, v []byte, indexed bool) (*api.Build, error) {
	if m.literal != nil && !bytes.Contains(v, m.literal) {
		return nil, nil
	}
	if !m.selectsAll() && !indexed {
		s, err := decodeSummary(seq, v)
		if err != nil || !m.selects(s) {
			return nil, err
		}
	}
	b, err := decodeBuild(seq, v)
	if err != nil || !m.selects(summary{Name: b.Name, UID: b.UID, Status: b.Status}) {
		return nil, err
	}
	return b, nil
}

func (m *matcher) selectsAll() bool {
	return m.f.UID == nil && len(m.f.Statuses) == 0 && m.f.Name == ""
}

func (m *matcher) selects(s summary) bool {
	return (m.f.UID == nil || *m.f.UID == s.UID) &&
		(len(m.f.Statuses) == 0 || slices.Contains(m.f.Statuses, s.Status)) &&
		strings.Contains(s.Name, m.f.Name)
}

// onlyActive reports whether statuses name only statuses the active set
// holds.
func onlyActive(statuses []api.Status) bool {
	return len(statuses) > 0 && !slices.ContainsFunc(statuses, api.Status.Finished)
}
