package config

import (
	"io"
	"io/fs"
	"os"
)

// hostFS is how the host id checks reach the files and directories of
// HostIDSources: osFS, or a test's that counts what is read.
type hostFS interface {
	Open(path string) (io.ReadCloser, error)
	ReadDir(path string) ([]fs.DirEntry, error)
	Lstat(path string) (fs.FileInfo, error)
}

// osFS is this host's file system.
type osFS struct{}

func (osFS) Open(path string) (io.ReadCloser, error)    { return os.Open(path) }
func (osFS) ReadDir(path string) ([]fs.DirEntry, error) { return os.ReadDir(path) }
func (osFS) Lstat(path string) (fs.FileInfo, error)     { return os.Lstat(path) }
