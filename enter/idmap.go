package enter

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/sdbuild/sdbuild/internal/idmap"
)

// identity is who an entered command is inside the build's user namespace
// and the host ids that maps to.
type identity struct {
	uid, gid         uint32
	hostUID, hostGID uint32
}

// entryID picks from a uid_map or gid_map (as the host reads it) the id an
// entered command takes, and the host id it maps to: root where the build
// maps it (uid-range builds), else the build's one id (1000 or 100). That
// is the builder's own identity either way, so the entered command can do
// what the build can and nothing more.
func entryID(idMap string) (inside, outside uint32, err error) {
	rs, err := idmap.Parse(strings.NewReader(idMap))
	if err != nil {
		return 0, 0, err
	}
	found := false
	for _, r := range rs {
		switch {
		case r.Count == 0:
			return 0, 0, fmt.Errorf("id map %d %d %d: empty range", r.Inside, r.Outside, r.Count)
		case r.Inside > math.MaxUint32 || r.Outside > math.MaxUint32:
			return 0, 0, fmt.Errorf("id map %d %d %d: an id past 2^32-1", r.Inside, r.Outside, r.Count)
		}
		if !found || r.Inside == 0 {
			inside, outside, found = uint32(r.Inside), uint32(r.Outside), true
		}
	}
	if !found {
		return 0, 0, errors.New("no id mapped")
	}
	return inside, outside, nil
}
