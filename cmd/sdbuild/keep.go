package main

import (
	"github.com/spf13/pflag"

	"github.com/sdbuild/sdbuild/build"
)

func addKeepFlags(fl *pflag.FlagSet, f *runFlags) {
	fl.BoolVar(&f.keepFailed, "keep-failed", false, "if the build fails, keep a copy of its /build for you (path in the log and in show; gc removes it after keep-build-dirs)")
	fl.BoolVar(&f.keepAlways, "keep", false, "keep a copy of the build's /build for you however it ends")
}

// keep is the request's Keep.
func (f *runFlags) keep() string {
	switch {
	case f.keepAlways:
		return build.KeepAlways
	case f.keepFailed:
		return build.KeepFailed
	}
	return build.KeepNever
}
