package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// IDFile is one host id database to check: /etc/passwd, /etc/group,
// /etc/subuid or /etc/subgid.
type IDFile struct {
	Name string    // path such as "/etc/passwd", used in messages
	R    io.Reader // the file's contents
}

// HostIDSources are the files and directories the host id checks read.
type HostIDSources struct {
	Passwd, Group, SubUID, SubGID string
	// NixConf is Nix's nix.conf: whether auto-allocate-uids is on, and its
	// start-id and id-count. The Nix daemon also takes settings from
	// $NIX_CONFIG and --option, which no file shows; NixUserPool does.
	NixConf string
	// NixUserPool is where Nix's auto-allocate-uids locks its slots, one
	// file per slot it has ever handed out.
	NixUserPool string
	// NSResourceSocket is systemd-nsresourced's socket: present while it
	// is enabled and would hand out ids of systemd's container range.
	NSResourceSocket string
}

// hostIDSources are this host's files, which CheckHostIDs,
// ReviewHostIDs and Load read; tests point them elsewhere.
var hostIDSources = HostIDSources{
	Passwd: "/etc/passwd", Group: "/etc/group", SubUID: "/etc/subuid", SubGID: "/etc/subgid",
	NixConf:          "/etc/nix/nix.conf",
	NixUserPool:      "/nix/var/nix/userpool2",
	NSResourceSocket: "/run/systemd/io.systemd.NamespaceResource",
}

// idEntry is a host id, or range of ids, that builds must not use.
type idEntry struct {
	what  string // e.g. `user "alice" (uid 1000)`
	first uint64
	end   uint64 // one past the last id
	file  string
	line  int
}

// CheckHostIDs checks the build id range against this host's users,
// groups and subordinate ids (/etc/passwd, /etc/group, /etc/subuid and
// /etc/subgid; the last two may be missing) and against the ids other
// allocators hand out (see allocators.go): Nix's auto-allocate-uids and
// systemd's ranges. A clash would let a build own or reach the files of
// an existing user, or share ids with another program's builds and
// containers. Users known only through NSS (LDAP, systemd-userdb) are not
// seen.
//
// A user's own daemon builds as the user (nothing to check) or on the
// subordinate ids it was granted, which are checked against users and
// groups only: the grant itself is in /etc/subuid, and where it lies is
// the administrator's choice.
func (c *Config) CheckHostIDs() error { return c.CheckHostIDsAt(hostIDSources) }

// CheckHostIDsAt is CheckHostIDs with the files and directories of s.
func (c *Config) CheckHostIDsAt(s HostIDSources) error {
	return c.reviewHostIDs(s, osFS{}).Err
}

// HostIDReview is what the host id checks found of a range, from one
// reading of the host's files.
type HostIDReview struct {
	// Err is what CheckHostIDs returns: nil when the range may be used.
	Err error
	// Warnings are, one line each ("the range overlaps …": doctor shows
	// them under the range), the ranges another allocator might hand out
	// that the range overlaps but Err does not refuse (see allocators.go
	// for why). A user's own daemon has none: its ids are the grant the
	// administrator chose for it. None either when the allocators' files
	// could not be read: Err says so.
	Warnings []string
}

// ReviewHostIDs is CheckHostIDs with the warnings besides, reading each
// file once: for doctor, which reports both.
func (c *Config) ReviewHostIDs() HostIDReview { return c.ReviewHostIDsAt(hostIDSources) }

// ReviewHostIDsAt is ReviewHostIDs with the files and directories of s.
func (c *Config) ReviewHostIDsAt(s HostIDSources) HostIDReview {
	return c.reviewHostIDs(s, osFS{})
}

// reviewHostIDs is ReviewHostIDsAt through host.
func (c *Config) reviewHostIDs(s HostIDSources, host hostFS) HostIDReview {
	paths := []string{s.Passwd, s.Group, s.SubUID, s.SubGID}
	if c.Rootless != nil {
		if !c.Rootless.HasSubIDs() {
			return HostIDReview{}
		}
		paths = paths[:2]
	}
	// The warnings do not depend on the id files: a missing /etc/passwd
	// leaves them as they are.
	var r HostIDReview
	var allocErrs []error
	if c.Rootless == nil {
		if h, err := readAllocators(s, host); err != nil {
			allocErrs = []error{err}
		} else {
			r.Warnings, allocErrs = c.allocatorWarnings(h), c.allocatorErrors(h)
		}
	}
	var files [4]*IDFile
	for i, path := range paths {
		f, err := host.Open(path)
		if err != nil {
			if i >= 2 && errors.Is(err, fs.ErrNotExist) {
				continue // no subordinate ids delegated on this host
			}
			r.Err = fmt.Errorf("check host ids: %w", err)
			return r
		}
		defer f.Close()
		files[i] = &IDFile{Name: path, R: f}
	}
	errs := []error{CheckIDRange(c.StartID, c.IDCount, files[0], files[1], files[2], files[3])}
	r.Err = errors.Join(append(errs, allocErrs...)...)
	return r
}

// readAllocators reads what s says about other allocators.
func readAllocators(s HostIDSources, host hostFS) (hostAllocators, error) {
	h := hostAllocators{nixPool: s.NixUserPool}
	settings, err := readNixConf(s.NixConf, host.Open)
	if err != nil {
		return h, fmt.Errorf("check host ids: %w", err)
	}
	if h.nix, err = nixRangeOf(settings); err != nil {
		return h, err
	}
	entries, err := host.ReadDir(s.NixUserPool)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return h, fmt.Errorf("check host ids: %w", err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	h.nixSlots = nixSlots(names)
	if _, err := host.Lstat(s.NSResourceSocket); err == nil {
		h.nsresourced = s.NSResourceSocket
	} else if !errors.Is(err, fs.ErrNotExist) {
		return h, fmt.Errorf("check host ids: %w", err)
	}
	return h, nil
}

// CheckIDRange reports every entry of the given files whose id or id range
// overlaps [start, start+count), and every malformed line. nil files are
// skipped. For passwd both the uid and the primary gid are checked.
func CheckIDRange(start, count uint32, passwd, group, subuid, subgid *IDFile) error {
	var entries []idEntry
	var errs []error
	for _, p := range []struct {
		f     *IDFile
		parse func(*IDFile) ([]idEntry, []error)
	}{
		{passwd, parsePasswd},
		{group, parseGroup},
		{subuid, func(f *IDFile) ([]idEntry, []error) { return parseSubIDs(f, "uids") }},
		{subgid, func(f *IDFile) ([]idEntry, []error) { return parseSubIDs(f, "gids") }},
	} {
		if p.f == nil {
			continue
		}
		e, perrs := p.parse(p.f)
		entries = append(entries, e...)
		errs = append(errs, perrs...)
	}

	first, end := uint64(start), uint64(start)+uint64(count)
	for _, e := range entries {
		if e.first < end && first < e.end {
			errs = append(errs, errorf(ErrIDOverlap,
				"id range %d-%d (start-id %d, id-count %d) overlaps %s in %s line %d; choose a start-id outside it",
				first, end-1, start, count, e.what, e.file, e.line))
		}
	}
	return errors.Join(errs...)
}

// parsePasswd reads "name:password:uid:gid:gecos:home:shell" lines.
func parsePasswd(f *IDFile) ([]idEntry, []error) {
	var entries []idEntry
	errs := eachLine(f, 7, "name:password:uid:gid:gecos:home:shell", true, func(fields []string, line int) error {
		for _, id := range []struct{ field, label string }{{fields[2], "uid"}, {fields[3], "primary gid"}} {
			n, err := parseID(f, line, id.label, id.field)
			if err != nil {
				return err
			}
			entries = append(entries, idEntry{
				what:  fmt.Sprintf("user %q (%s %d)", fields[0], id.label, n),
				first: n, end: n + 1, file: f.Name, line: line,
			})
		}
		return nil
	})
	return entries, errs
}

// parseGroup reads "name:password:gid:members" lines.
func parseGroup(f *IDFile) ([]idEntry, []error) {
	var entries []idEntry
	errs := eachLine(f, 4, "name:password:gid:members", true, func(fields []string, line int) error {
		n, err := parseID(f, line, "gid", fields[2])
		if err != nil {
			return err
		}
		entries = append(entries, idEntry{
			what:  fmt.Sprintf("group %q (gid %d)", fields[0], n),
			first: n, end: n + 1, file: f.Name, line: line,
		})
		return nil
	})
	return entries, errs
}

// parseSubIDs reads "name:start:count" lines of /etc/subuid or /etc/subgid
// (kind "uids" or "gids"); name may also be a numeric uid.
func parseSubIDs(f *IDFile, kind string) ([]idEntry, []error) {
	var entries []idEntry
	errs := eachLine(f, 3, "name:start:count", false, func(fields []string, line int) error {
		first, err := parseID(f, line, "start", fields[1])
		if err != nil {
			return err
		}
		count, err := parseID(f, line, "count", fields[2])
		if err != nil {
			return err
		}
		if count == 0 {
			return nil // an empty range holds no id
		}
		entries = append(entries, idEntry{
			what:  fmt.Sprintf("subordinate %s %d-%d of %q", kind, first, first+count-1, fields[0]),
			first: first, end: first + count, file: f.Name, line: line,
		})
		return nil
	})
	return entries, errs
}

// eachLine calls fn with the colon-separated fields of each entry of f,
// skipping blank lines and comments. With nisCompat, "+" and "-" lines
// (NIS compat entries, which name no id of their own) are skipped too.
// Lines are read whole: a group with many members can be longer than
// bufio.Scanner's limit.
func eachLine(f *IDFile, nfields int, format string, nisCompat bool, fn func(fields []string, line int) error) []error {
	var errs []error
	r := bufio.NewReader(f.R)
	for line := 1; ; line++ {
		text, err := r.ReadString('\n')
		if err != nil && err != io.EOF {
			return append(errs, fmt.Errorf("read %s: %w", f.Name, err))
		}
		if text == "" && err == io.EOF {
			return errs
		}
		text = strings.TrimRight(text, "\r\n")
		trimmed := strings.TrimSpace(text)
		skip := trimmed == "" || strings.HasPrefix(trimmed, "#") ||
			(nisCompat && (trimmed[0] == '+' || trimmed[0] == '-'))
		if !skip {
			fields := strings.Split(text, ":")
			if len(fields) != nfields {
				errs = append(errs, errorf(ErrMalformedIDFile, "read %s line %d: want %d fields (%s), got %d",
					f.Name, line, nfields, format, len(fields)))
			} else if ferr := fn(fields, line); ferr != nil {
				errs = append(errs, ferr)
			}
		}
		if err == io.EOF {
			return errs
		}
	}
}

// parseID parses one numeric field of line.
func parseID(f *IDFile, line int, label, s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, errorf(ErrMalformedIDFile, "read %s line %d: %s %q is not an unsigned 32-bit integer",
			f.Name, line, label, s)
	}
	return n, nil
}
