//go:build !linux

package doctor

import (
	"context"
	"errors"
)

// Gather outside Linux finds no namespaces, cgroups or systemd.
func Gather(ctx context.Context, o Options) *Host {
	h := &Host{EUID: -1, Config: o.Config, ConfigErr: o.ConfigErr, NamespaceErrs: map[string]error{},
		SystemdErr: errors.ErrUnsupported, Cgroup2Err: errors.ErrUnsupported}
	for _, ns := range namespaceKinds {
		h.NamespaceErrs[ns.name] = errors.ErrUnsupported
	}
	return h
}
