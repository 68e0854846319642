// Package treediff compares two directory trees entry by entry: paths,
// types, permission bits, symlink targets and, for regular files, a
// SHA-256 of the contents. sdbuild rerun --check uses it to find what a
// build does not reproduce.
//
// It never follows a symlink: a link is compared by its target text, as
// the output copy (package outputs) recreates it.
package treediff

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Entry is one file of a tree as compared.
type Entry struct {
	Mode fs.FileMode // type and permission bits
	Size int64       // regular files only
	Hash string      // hex SHA-256 of a regular file's contents
	Link string      // a symlink's target
}

func (e Entry) String() string {
	switch {
	case e.Mode.IsRegular():
		return fmt.Sprintf("%v %d bytes sha256:%.16s", e.Mode, e.Size, e.Hash)
	case e.Mode&fs.ModeSymlink != 0:
		return fmt.Sprintf("symlink -> %s", e.Link)
	}
	return e.Mode.String()
}

// Tree maps paths relative to the root ("." is the root) to entries.
type Tree map[string]Entry

// Read reads the tree at root.
func Read(root string) (Tree, error) {
	t := Tree{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		e := Entry{Mode: fi.Mode() & (fs.ModeType | fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)}
		switch {
		case fi.Mode().IsRegular():
			e.Size = fi.Size()
			if e.Hash, err = hashFile(path); err != nil {
				return err
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			if e.Link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		t[rel] = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", root, err)
	}
	return t, nil
}

func hashFile(path string) (string, error) {
	// O_NOFOLLOW: the walk saw a regular file here; a symlink put in its
	// place since is not followed.
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Difference is one path whose entries differ; A or B is nil where the
// path is missing on that side.
type Difference struct {
	Path string
	A, B *Entry
	What string // "only in A", "only in B", "type", "mode", "contents", "symlink target"
}

func (d Difference) String() string {
	switch {
	case d.A == nil:
		return fmt.Sprintf("%s: only in the rerun (%v)", d.Path, *d.B)
	case d.B == nil:
		return fmt.Sprintf("%s: only in the first build (%v)", d.Path, *d.A)
	}
	return fmt.Sprintf("%s: %s differs: %v, rerun %v", d.Path, d.What, *d.A, *d.B)
}

// Compare returns every difference between a and b, sorted by path.
func Compare(a, b Tree) []Difference {
	var out []Difference
	for p, ea := range a {
		eb, ok := b[p]
		if !ok {
			out = append(out, Difference{Path: p, A: &ea, What: "only in A"})
			continue
		}
		if what := differ(ea, eb); what != "" {
			out = append(out, Difference{Path: p, A: &ea, B: &eb, What: what})
		}
	}
	for p, eb := range b {
		if _, ok := a[p]; !ok {
			out = append(out, Difference{Path: p, B: &eb, What: "only in B"})
		}
	}
	slices.SortFunc(out, func(x, y Difference) int {
		switch {
		case x.Path < y.Path:
			return -1
		case x.Path > y.Path:
			return 1
		}
		return 0
	})
	return out
}

func differ(a, b Entry) string {
	switch {
	case a.Mode.Type() != b.Mode.Type():
		return "type"
	case a.Mode != b.Mode:
		return "mode"
	case a.Hash != b.Hash || a.Size != b.Size:
		return "contents"
	case a.Link != b.Link:
		return "symlink target"
	}
	return ""
}
