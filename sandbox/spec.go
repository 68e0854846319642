package sandbox

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/sdbuild/sdbuild/internal/fscred"
)

// Fixed places inside every sandbox.
const (
	BuildDir   = "/build" // working directory and TMPDIR
	OutDir     = "/out"   // $out
	TmpDir     = "/tmp"
	HomeDir    = "/homeless-shelter" // exists nowhere, so a build cannot depend on a home
	NoPath     = "/path-not-set"
	Hostname   = "localhost"
	BuilderUID = 1000 // the builder's uid without uid-range
	BuilderGID = 100  // the builder's gid without uid-range
)

// reserved are sandbox paths that sdbuild owns; an input may not be
// mounted on them or below them.
var reserved = []string{"/proc", "/dev", BuildDir, OutDir, TmpDir, "/sys", "/run"}

// Mount is one read-only input: a host path and where it appears.
type Mount struct {
	Host    string `json:"host"`
	Sandbox string `json:"sandbox"`
	// Client says the client named the input: init resolves it with the
	// spec's Client credentials, never with its own.
	Client bool `json:"client,omitempty"`
}

// ParseMount parses HOST[:SANDBOX]; SANDBOX defaults to HOST.
func ParseMount(s string) (Mount, error) {
	host, sb, found := strings.Cut(s, ":")
	if !found {
		sb = host
	}
	m := Mount{Host: host, Sandbox: sb}
	if err := m.validate(); err != nil {
		return Mount{}, err
	}
	return m, nil
}

func (m Mount) validate() error {
	for _, p := range []struct{ what, v string }{{"host path", m.Host}, {"sandbox path", m.Sandbox}} {
		if !path.IsAbs(p.v) {
			return fmt.Errorf("input %s: %s %q must be absolute", m, p.what, p.v)
		}
		if path.Clean(p.v) != p.v {
			return fmt.Errorf("input %s: %s %q must be clean (no trailing /, //, . or ..): use %q", m, p.what, p.v, path.Clean(p.v))
		}
	}
	if m.Sandbox == "/" {
		return fmt.Errorf("input %s: cannot be mounted on / (the sandbox root is always fresh)", m)
	}
	for _, r := range reserved {
		if m.Sandbox == r || strings.HasPrefix(m.Sandbox, r+"/") {
			return fmt.Errorf("input %s: %s is reserved by the sandbox", m, r)
		}
	}
	return nil
}

func (m Mount) String() string {
	if m.Host == m.Sandbox {
		return m.Host
	}
	return m.Host + ":" + m.Sandbox
}

// Spec is everything init needs to build one sandbox and run its builder.
type Spec struct {
	BuildID  string   `json:"build_id"`
	Args     []string `json:"args"`
	Env      []string `json:"env,omitempty"` // K=V pairs the request sets
	Features Features `json:"features"`
	Inputs   []Mount  `json:"inputs,omitempty"`
	// Dir is the build's private host directory, prepared by PrepareDir.
	Dir string `json:"dir"`
	// HostID is the first host uid of the build's slot, HostGID its first
	// gid (0: HostID; a user's subuid and subgid grants may differ), and
	// IDCount the number of ids of each.
	HostID  uint32 `json:"host_id"`
	HostGID uint32 `json:"host_gid,omitempty"`
	IDCount uint32 `json:"id_count"`
	// UserNS is set when the caller is not root (a user's own daemon):
	// init then runs in a user namespace of its own, see UserNS.
	UserNS *UserNS `json:"user_ns,omitempty"`
	// Client, when set, is whom the build runs for, if not the caller:
	// the inputs marked Client are opened with these file-system
	// credentials, so a build can read only what its client can.
	Client *fscred.Cred `json:"client,omitempty"`
	// Action, when set, runs the builder as a remote-execution action
	// (see Action): Env is then its whole environment.
	Action *Action `json:"action,omitempty"`
}

// UserNS is init's own user namespace, for a caller without root. The
// caller's uid and gid are root in it, so init can build the root and
// mount the caller's inputs; with Sub, ids from 1 up in it are subordinate
// ids, mapped by newuidmap and newgidmap, and the builder's ids are among
// those. Without Sub the builder's single id is the caller's own. Either
// way the builder gets a further user namespace, mapped onto its slot's
// ids alone, so init's mounts stay locked for it and no other slot's ids
// are in it.
type UserNS struct {
	UID uint32 `json:"uid"`
	GID uint32 `json:"gid"`
	Sub bool   `json:"sub,omitempty"`
	// Pool, with Sub, is the caller's whole pool of slots: init's namespace
	// maps all of it, so init starts (and a sandbox is prepared) before a
	// slot is leased, as for a caller with root, in whose namespace every
	// id is mapped. Zero: the slot's own ids alone (HostID, IDCount).
	Pool IDPool `json:"pool,omitzero"`
}

// CanPrepare returns an error unless a sandbox can be prepared
// (SpawnPrepared) with init in user namespace u, nil for a caller with
// root: one over subordinate ids must map the whole pool (UserNS.Pool),
// since the slot its build will get is not known yet.
func CanPrepare(u *UserNS) error {
	if u != nil && u.Sub && u.Pool.Count == 0 {
		return fmt.Errorf("%w: a prepared sandbox is for a caller with root or one whose user namespace maps the pool of subordinate ids its slot will come from (UserNS.Pool)", ErrInvalidSpec)
	}
	return nil
}

// IDPool is a range of subordinate ids: uids from UID and gids from GID,
// Count of each.
type IDPool struct {
	UID   uint32 `json:"uid"`
	GID   uint32 `json:"gid"`
	Count uint32 `json:"count"`
}

// fixedEnv are variables sdbuild sets itself; a request cannot override them.
var fixedEnv = map[string]bool{"out": true, "TMPDIR": true, "SDBUILD_BUILD_ID": true}

// Validate checks the spec without touching the system.
func (s *Spec) Validate() error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	return nil
}

func (s *Spec) validate() error {
	if !validBuildID(s.BuildID) {
		return fmt.Errorf("build id %q: want 1-64 characters of a-z, 0-9 and -", s.BuildID)
	}
	if len(s.Args) == 0 || s.Args[0] == "" {
		return fmt.Errorf("no command to run: give one after --")
	}
	for _, e := range s.Env {
		k, v, ok := strings.Cut(e, "=")
		switch {
		case !ok:
			return fmt.Errorf("env %q: want KEY=VALUE", e)
		case !validEnvKey(k):
			return fmt.Errorf("env %q: %q is not a valid variable name", e, k)
		case fixedEnv[k] && s.Action == nil:
			return fmt.Errorf("env %q: %s is set by sdbuild and cannot be overridden", e, k)
		case strings.ContainsRune(v, 0):
			return fmt.Errorf("env %s: value contains a NUL byte", k)
		}
	}
	if s.Action != nil {
		if err := s.Action.validate(); err != nil {
			return err
		}
	}
	seen := map[string]Mount{}
	for _, m := range s.Inputs {
		if err := m.validate(); err != nil {
			return err
		}
		if prev, dup := seen[m.Sandbox]; dup {
			return fmt.Errorf("inputs %s and %s both mount on %s", prev, m, m.Sandbox)
		}
		seen[m.Sandbox] = m
	}
	if !path.IsAbs(s.Dir) {
		return fmt.Errorf("build directory %q must be absolute", s.Dir)
	}
	if s.HostID == 0 || s.IDCount == 0 {
		return fmt.Errorf("host id range %d+%d: the build needs at least one non-root host id", s.HostID, s.IDCount)
	}
	if uint64(max(s.HostID, s.hostGID()))+uint64(s.IDCount) > 1<<32-1 {
		return fmt.Errorf("host id range %d+%d (gids from %d) passes 2^32-1", s.HostID, s.IDCount, s.hostGID())
	}
	if u := s.UserNS; u != nil {
		if !u.Sub && (s.HostID != u.UID || s.IDCount != 1) {
			return fmt.Errorf("host id range %d+%d: without subordinate ids a build has only the caller's uid %d", s.HostID, s.IDCount, u.UID)
		}
		if p := u.Pool; u.Sub && p.Count > 0 && !p.holds(s.HostID, s.hostGID(), s.IDCount) {
			return fmt.Errorf("host id range %d+%d (gids from %d) is not within the pool of subordinate ids %d+%d (gids from %d)",
				s.HostID, s.IDCount, s.hostGID(), p.UID, p.Count, p.GID)
		}
		err := s.Features.Each(func(f Feature, n Needs) error {
			switch {
			case n.FullRange && !u.Sub:
				return fmt.Errorf("feature %s needs subordinate ids: without them a build has the caller's single id", f)
			case n.Root:
				return fmt.Errorf("feature %s needs a device node of the build's own, which only root can make: run it on the system daemon", f)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := s.Features.checkCombination(); err != nil {
		return err
	}
	return nil
}

// validBuildID reports whether id is 1-64 characters of a-z, 0-9 and -,
// the first not -. (Checked by hand, not by a regexp: this package is every
// build's init, and a regexp compiled at package initialisation costs each
// process start more than everything else the package sets up.)
func validBuildID(id string) bool {
	if len(id) == 0 || len(id) > 64 || id[0] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isLower(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

// validEnvKey reports whether k is a variable name a shell accepts: a
// letter or _, then letters, digits and _.
func validEnvKey(k string) bool {
	if len(k) == 0 || isDigit(k[0]) {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !isLower(c) && !isUpper(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// orderedInputs returns the inputs sorted so that a mount point is always
// mounted before anything beneath it.
func (s *Spec) orderedInputs() []Mount {
	in := append([]Mount(nil), s.Inputs...)
	sort.SliceStable(in, func(i, j int) bool {
		di, dj := strings.Count(in[i].Sandbox, "/"), strings.Count(in[j].Sandbox, "/")
		if di != dj {
			return di < dj
		}
		return in[i].Sandbox < in[j].Sandbox
	})
	return in
}

// Environ is the builder's complete environment: PATH and HOME defaults the
// request may override, the request's own variables, then sdbuild's fixed
// ones. Nothing of the caller's environment leaks in.
func (s *Spec) Environ() []string {
	if s.Action != nil {
		// A worker gives an action its complete environment: nothing
		// is added, not even PATH.
		return append([]string{}, s.Env...)
	}
	env := map[string]string{"PATH": NoPath, "HOME": HomeDir}
	order := []string{"PATH", "HOME"}
	set := func(k, v string) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	for _, e := range s.Env {
		k, v, _ := strings.Cut(e, "=")
		set(k, v)
	}
	set("out", OutDir)
	set("TMPDIR", BuildDir)
	set("SDBUILD_BUILD_ID", s.BuildID)
	out := make([]string, len(order))
	for i, k := range order {
		out[i] = k + "=" + env[k]
	}
	return out
}

// builderIdentity is who the builder is inside its user namespace.
func (s *Spec) builderIdentity() (uid, gid uint32) {
	if s.Features.UIDRange {
		return 0, 0
	}
	return BuilderUID, BuilderGID
}

// idMap is one line of a uid_map or gid_map.
type idMap struct {
	Inside, Outside, Count uint32
}

// slotBase is the slot's first uid and gid as init's user namespace sees
// them: the host's ids for a root caller; in init's own namespace, whose
// subordinate ids start at 1, the slot's place in them or, without
// subordinate ids, 0 (the caller).
func (s *Spec) slotBase() (uid, gid uint32) {
	switch {
	case s.UserNS == nil:
		return s.HostID, s.hostGID()
	case s.UserNS.Sub:
		u, g, _ := s.subIDs()
		return 1 + s.HostID - u, 1 + s.hostGID() - g
	}
	return 0, 0
}

// subIDs are the subordinate ids init's namespace maps from 1 up: the
// caller's whole pool, or without one the slot's own ids.
func (s *Spec) subIDs() (uid, gid, count uint32) {
	if p := s.UserNS.Pool; p.Count > 0 {
		return p.UID, p.GID, p.Count
	}
	return s.HostID, s.hostGID(), s.IDCount
}

// holds reports whether the count uids from uid and gids from gid are all
// in p, at the same place in its uids as in its gids (one slot's).
func (p IDPool) holds(uid, gid, count uint32) bool {
	in := func(first, start uint32) bool {
		return first >= start && uint64(first)+uint64(count) <= uint64(start)+uint64(p.Count)
	}
	return in(uid, p.UID) && in(gid, p.GID) && uid-p.UID == gid-p.GID
}

// sameUserNS reports whether a and b are the same user namespace for init
// (both nil: the caller's).
func sameUserNS(a, b *UserNS) bool {
	return a == b || a != nil && b != nil && *a == *b
}

// checkFills returns an error unless s, a build's whole spec, may fill a
// sandbox prepared as p: the same build id, directory, features and user
// namespace, and no action. The caller checks it before it sends s, and
// init again when it gets it, so both say the same.
func (s *Spec) checkFills(p *Spec) error {
	if s.BuildID != p.BuildID || s.Dir != p.Dir || s.Features != p.Features || !sameUserNS(s.UserNS, p.UserNS) || s.Action != nil {
		return errors.New("the build id, directory, features, user namespace or action differ from the prepared ones")
	}
	return nil
}

// idMaps are the builder's uid and gid maps, written by init: its one id
// onto the slot's first id by default, the slot's whole range (root
// first) with uid-range.
func (s *Spec) idMaps() (uids, gids idMap) {
	u, g := s.slotBase()
	if s.Features.UIDRange {
		return idMap{Inside: 0, Outside: u, Count: s.IDCount}, idMap{Inside: 0, Outside: g, Count: s.IDCount}
	}
	return idMap{Inside: BuilderUID, Outside: u, Count: 1},
		idMap{Inside: BuilderGID, Outside: g, Count: 1}
}

// hostGID is the slot's first host gid.
func (s *Spec) hostGID() uint32 {
	if s.HostGID == 0 {
		return s.HostID
	}
	return s.HostGID
}

// initMaps are init's own uid_map and gid_map lines, for UserNS.
func (s *Spec) initMaps() (uids, gids []idMap) {
	u := s.UserNS
	uids, gids = []idMap{{0, u.UID, 1}}, []idMap{{0, u.GID, 1}}
	if u.Sub {
		su, sg, n := s.subIDs()
		uids = append(uids, idMap{1, su, n})
		gids = append(gids, idMap{1, sg, n})
	}
	return uids, gids
}
