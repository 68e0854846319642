// Package integration holds sdbuild's whole-system tests: the real CLI
// against the real socket-activated daemon under a real systemd, D-Bus and
// journald. They run inside the throwaway systemd of package testbed:
//
//	go run ./cmd/sdbuild-testbed run -- go test -tags integration ./integration/
package integration
