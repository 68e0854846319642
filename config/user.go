package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
)

// Account is the user whose own daemon a configuration describes: sdbuild
// without root, under the user's systemd.
type Account struct {
	Name     string
	UID, GID uint32
	Home     string
}

// CurrentAccount is the account this process runs as; a uid without a
// passwd entry is named by its number. (user.Current: a binary built
// without cgo, as the client is, that finds no /etc/passwd entry takes the
// name and home from $USER and $HOME.)
func CurrentAccount() *Account {
	uid, gid := os.Getuid(), os.Getgid()
	a := &Account{Name: strconv.Itoa(uid), UID: uint32(uid), GID: uint32(gid)}
	if u, err := user.Current(); err == nil && u.Uid == strconv.Itoa(uid) {
		a.Name, a.Home = u.Username, u.HomeDir
	}
	return a
}

// Rootless is what a user's own daemon builds with.
type Rootless struct {
	Account
	// SubUID and SubGID are the user's subordinate id grants from
	// /etc/subuid and /etc/subgid that slots are carved from. Without
	// both (Count 0), every build runs as the user's own single id.
	SubUID, SubGID SubIDRange
	// suggest is a free range to grant when there is none.
	suggest uint32
}

// SubIDRange is one line of /etc/subuid or /etc/subgid.
type SubIDRange struct {
	Start, Count uint32
	File         string
	Line         int
}

// granted is how many ids the grants give for both uids and gids.
func (r *Rootless) granted() uint32 { return min(r.SubUID.Count, r.SubGID.Count) }

// HasSubIDs reports whether the user was granted subordinate uids and gids.
func (r *Rootless) HasSubIDs() bool { return r.SubUID.Count > 0 && r.SubGID.Count > 0 }

// ErrNoSubIDs: a build needs a range of ids and the user has none.
var ErrNoSubIDs = errors.New("no subordinate ids")

// NoSubIDsError says why a build that needs a range of ids (uid-range)
// cannot have one, and the lines an administrator adds to grant it.
func (r *Rootless) NoSubIDsError() error {
	missing := "/etc/subuid and /etc/subgid"
	switch {
	case r.SubUID.Count > 0:
		missing = "/etc/subgid"
	case r.SubGID.Count > 0:
		missing = "/etc/subuid"
	}
	start := r.suggest
	return fmt.Errorf("%w: user %s has no range in %s, so builds run as the user's own single id; to grant one, add the line %q to /etc/subuid and /etc/subgid (as root: usermod --add-subuids %d-%d --add-subgids %d-%d %s), then restart sdbuild.service",
		ErrNoSubIDs, r.Name, missing, fmt.Sprintf("%s:%d:65536", r.Name, start),
		start, start+65535, start, start+65535, r.Name)
}

// maxSlots caps the slots carved from a large grant, as in system mode.
const maxSlots = 128

// userDefaults turns c (the defaults) into a's own daemon's defaults:
// XDG paths, a's subordinate ids, a alone allowed and trusted.
func (c *Config) userDefaults(a *Account, environ []string) (file string, err error) {
	p, err := userPathsOf(a, environ)
	if err != nil {
		return "", err
	}
	c.StateDir, c.Socket = p.stateDir, p.socket
	c.AllowedUsers = []string{a.Name}
	c.TrustedUsers = []string{a.Name}
	r := &Rootless{Account: *a}
	if err := r.readSubIDs(); err != nil {
		return "", err
	}
	c.Rootless = r
	if r.HasSubIDs() {
		// id-count follows from the grant in settleUserIDs.
		c.StartID, c.IDsPerBuild = r.SubUID.Start, min(r.granted(), 65536)
	}
	return p.file, nil
}

// userPaths are where a user's own daemon keeps things.
type userPaths struct{ stateDir, socket, file string }

// userPathsOf follows the XDG base directory specification over environ.
func userPathsOf(a *Account, environ []string) (userPaths, error) {
	home := a.Home
	if h := getenv(environ, "HOME"); filepath.IsAbs(h) {
		home = h // as the XDG base directory specification reads it
	}
	xdg := func(name, fallback string) (string, error) {
		if v := getenv(environ, name); filepath.IsAbs(v) {
			return v, nil
		}
		if home == "" {
			return "", fmt.Errorf("config: user %s: $%s is unset and there is no home directory ($HOME) to default it from", a.Name, name)
		}
		return filepath.Join(home, fallback), nil
	}
	state, err := xdg("XDG_STATE_HOME", ".local/state")
	if err != nil {
		return userPaths{}, err
	}
	conf, err := xdg("XDG_CONFIG_HOME", ".config")
	if err != nil {
		return userPaths{}, err
	}
	runtimeDir := getenv(environ, "XDG_RUNTIME_DIR")
	if !filepath.IsAbs(runtimeDir) {
		runtimeDir = filepath.Join("/run/user", strconv.FormatUint(uint64(a.UID), 10))
	}
	return userPaths{
		stateDir: filepath.Join(state, "sdbuild"),
		socket:   UserSocket(runtimeDir),
		file:     filepath.Join(conf, "sdbuild", "sdbuild.toml"),
	}, nil
}

// UserSocket is the socket of a user's own daemon in runtimeDir
// ($XDG_RUNTIME_DIR).
func UserSocket(runtimeDir string) string {
	return filepath.Join(runtimeDir, "sdbuild", "sdbuild.sock")
}

// readSubIDs finds the user's first grant in each of /etc/subuid and
// /etc/subgid (by name or numeric uid, as newuidmap does), and a free
// range to suggest when there is none.
func (r *Rootless) readSubIDs() error {
	r.suggest = 100000
	for _, f := range []struct {
		path string
		into *SubIDRange
	}{{hostIDSources.SubUID, &r.SubUID}, {hostIDSources.SubGID, &r.SubGID}} {
		fh, err := os.Open(f.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("config: read subordinate ids: %w", err)
		}
		uid := strconv.FormatUint(uint64(r.UID), 10)
		eachLine(&IDFile{Name: f.path, R: fh}, 3, "name:start:count", false, func(fields []string, line int) error {
			start, err := strconv.ParseUint(fields[1], 10, 32)
			if err != nil {
				return nil // CheckHostIDs and doctor report malformed lines
			}
			count, err := strconv.ParseUint(fields[2], 10, 32)
			if err != nil || count == 0 || start+count > 1<<32-1 {
				return nil
			}
			if end := uint32(start + count); end > r.suggest {
				r.suggest = end
			}
			if f.into.Count == 0 && (fields[0] == r.Name || fields[0] == uid) {
				*f.into = SubIDRange{Start: uint32(start), Count: uint32(count), File: f.path, Line: line}
			}
			return nil
		})
		fh.Close()
	}
	// Round the suggestion up to a 65536 boundary, as useradd's ranges are.
	r.suggest = (r.suggest + 65535) &^ 65535
	return nil
}

// settleUserIDs fits the id keys to the grant after flags, environment and
// file were applied: a user's ids can only be the ones granted.
func (c *Config) settleUserIDs(set map[string]bool) error {
	r := c.Rootless
	if !r.HasSubIDs() {
		for _, k := range []string{"start-id", "id-count", "ids-per-build"} {
			if set[k] {
				return errorf(ErrInvalidValue, "config: %s: user %s has no subordinate ids, so every build runs as uid %d; %s applies only with a range in /etc/subuid and /etc/subgid", k, r.Name, r.UID, k)
			}
		}
		// Every slot is the user's own id; slots only count builds.
		c.StartID, c.IDsPerBuild, c.IDCount = r.UID, 1, uint32(max(c.MaxJobs, 1))
		return nil
	}
	if !set["id-count"] && c.IDsPerBuild != 0 {
		// As many slots of ids-per-build as the grant holds, up to maxSlots.
		c.IDCount = min(r.granted()/c.IDsPerBuild, maxSlots) * c.IDsPerBuild
	}
	first, end := uint64(c.StartID), uint64(c.StartID)+uint64(c.IDCount)
	gEnd := uint64(r.SubGID.Start) + (first - uint64(r.SubUID.Start)) + uint64(c.IDCount)
	if first < uint64(r.SubUID.Start) || end > uint64(r.SubUID.Start)+uint64(r.SubUID.Count) ||
		gEnd > uint64(r.SubGID.Start)+uint64(r.SubGID.Count) {
		return errorf(ErrInvalidValue, "config: ids %d-%d (start-id %d, id-count %d) are not all granted to %s: %s line %d grants uids %d-%d, %s line %d gids %d-%d",
			first, end-1, c.StartID, c.IDCount, r.Name,
			r.SubUID.File, r.SubUID.Line, r.SubUID.Start, uint64(r.SubUID.Start)+uint64(r.SubUID.Count)-1,
			r.SubGID.File, r.SubGID.Line, r.SubGID.Start, uint64(r.SubGID.Start)+uint64(r.SubGID.Count)-1)
	}
	return nil
}

// StartGID is the first gid of the build id range: StartID in system
// mode, the matching subordinate gid for a user's own daemon, the user's
// own gid for one without subordinate ids.
func (c *Config) StartGID() uint32 {
	switch r := c.Rootless; {
	case r == nil:
		return c.StartID
	case r.HasSubIDs():
		return r.SubGID.Start + (c.StartID - r.SubUID.Start)
	}
	return c.Rootless.GID
}

// getenv is os.Getenv over environ.
func getenv(environ []string, name string) string {
	for _, kv := range environ {
		if len(kv) > len(name) && kv[len(name)] == '=' && kv[:len(name)] == name {
			return kv[len(name)+1:]
		}
	}
	return ""
}
