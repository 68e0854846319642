package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// nixSetting is one "name = value" line of a nix.conf.
type nixSetting struct {
	value string
	file  string
	line  int
}

// where says where s was set, for messages.
func (s nixSetting) where() string { return fmt.Sprintf("%s line %d", s.file, s.line) }

// maxNixIncludes bounds include nesting: Nix follows includes without
// looking for cycles, and a cycle must not hang the daemon's start.
const maxNixIncludes = 16

// readNixConf returns the settings of the nix.conf at path and of the files
// it includes, a later line overriding an earlier one as in Nix. A missing
// file, or a missing included file, holds no settings: Nix refuses to start
// on a missing "include" itself, and then hands out nothing.
func readNixConf(path string, open func(string) (io.ReadCloser, error)) (map[string]nixSetting, error) {
	settings := map[string]nixSetting{}
	var read func(path string, depth int) error
	read = func(path string, depth int) error {
		if depth > maxNixIncludes {
			return fmt.Errorf("read %s: includes nested deeper than %d", path, maxNixIncludes)
		}
		f, err := open(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		defer f.Close()
		return parseNixConf(f, path, settings, func(inc string) error {
			if !filepath.IsAbs(inc) {
				inc = filepath.Join(filepath.Dir(path), inc)
			}
			return read(inc, depth+1)
		})
	}
	return settings, read(path, 0)
}

// parseNixConf reads nix.conf lines from r (the file name) into settings
// and calls include with the path of each "include" and "!include" line.
// As in Nix, "#" starts a comment anywhere and a setting is "name = value"
// with the tokens apart by blanks. Lines Nix would refuse are skipped: only
// the settings sdbuild reads matter here, and Nix does not start with them.
func parseNixConf(r io.Reader, name string, settings map[string]nixSetting, include func(path string) error) error {
	br := bufio.NewReader(r)
	for line := 1; ; line++ {
		text, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("read %s: %w", name, err)
		}
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		tokens := strings.Fields(text)
		switch {
		case len(tokens) == 2 && (tokens[0] == "include" || tokens[0] == "!include"):
			if ierr := include(tokens[1]); ierr != nil {
				return ierr
			}
		case len(tokens) >= 2 && tokens[1] == "=":
			settings[tokens[0]] = nixSetting{value: strings.Join(tokens[2:], " "), file: name, line: line}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// nixRange is the ids Nix's auto-allocate-uids hands out, as its nix.conf
// says.
type nixRange struct {
	on           bool
	onAt         nixSetting  // the auto-allocate-uids line, when on
	start, count uint64      // Nix's defaults unless set
	startAt      *nixSetting // nil: start-id is Nix's default
	countAt      *nixSetting // nil: id-count is Nix's default
}

// nixRangeOf reads auto-allocate-uids, start-id and id-count from
// settings. It reports the values Nix itself would refuse, but only those
// that matter: start-id and id-count when auto-allocate-uids is on.
//
// experimental-features is not consulted: Nix ignores auto-allocate-uids
// until the feature of that name is on, but a host whose nix.conf asks for
// it is one step from handing the ids out, and sdbuild would not notice
// that step before its next start.
func nixRangeOf(settings map[string]nixSetting) (nixRange, error) {
	r := nixRange{start: nixDefaultStartID, count: nixDefaultIDCount}
	if s, ok := settings["start-id"]; ok {
		r.startAt = &s
	}
	if s, ok := settings["id-count"]; ok {
		r.countAt = &s
	}
	on, ok := settings["auto-allocate-uids"]
	if !ok {
		return r, nil
	}
	switch on.value {
	case "true", "yes", "1":
		r.on, r.onAt = true, on
	case "false", "no", "0":
		return r, nil
	default:
		return r, errorf(ErrMalformedIDFile, "read %s: auto-allocate-uids %q is not a boolean", on.where(), on.value)
	}
	var errs []error
	for _, v := range []struct {
		name string
		at   *nixSetting
		to   *uint64
	}{{"start-id", r.startAt, &r.start}, {"id-count", r.countAt, &r.count}} {
		if v.at == nil {
			continue
		}
		n, err := strconv.ParseUint(v.at.value, 10, 32)
		if err != nil {
			errs = append(errs, errorf(ErrMalformedIDFile, "read %s: %s %q is not an unsigned 32-bit integer",
				v.at.where(), v.name, v.at.value))
			continue
		}
		*v.to = n
	}
	return r, errors.Join(errs...)
}

// source says where r comes from, for messages: the auto-allocate-uids line
// and where start-id and id-count were set, or that they are Nix's defaults.
func (r nixRange) source() string {
	s := fmt.Sprintf("%s: auto-allocate-uids = %s", r.onAt.where(), r.onAt.value)
	for _, v := range []struct {
		name string
		at   *nixSetting
		def  uint64
	}{{"start-id", r.startAt, nixDefaultStartID}, {"id-count", r.countAt, nixDefaultIDCount}} {
		if v.at == nil {
			s += fmt.Sprintf("; %s unset, Nix's default %d", v.name, v.def)
		} else {
			s += fmt.Sprintf("; %s = %s at %s", v.name, v.at.value, v.at.where())
		}
	}
	return s
}

// nixSlots returns the slot numbers Nix's userpool2 directory names, in
// order: Nix creates slot-N there the first time it hands out slot N, the
// ids start-id + N·65536 onwards, and never removes it.
func nixSlots(names []string) []uint64 {
	var slots []uint64
	for _, name := range names {
		digits, ok := strings.CutPrefix(name, "slot-")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(digits, 10, 32); err == nil {
			slots = append(slots, n)
		}
	}
	slices.Sort(slots)
	return slots
}
