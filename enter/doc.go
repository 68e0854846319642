// Package enter runs a command inside a running build, for sdbuild enter:
// in the builder's namespaces, as the builder's own identity, in a cgroup
// of its own inside the build's scope, with its stdio relayed over the
// framed protocol of api/enter.go.
//
// The caller decides who may enter (an entered command can change a
// build's outputs behind its back, so only those who may already see and
// cancel every build) and finds the running build. It names the build in a
// Target: its id, its sandbox init's host pid, and its scope's cgroup as
// recorded when the build was placed. Nothing the build itself controls is
// trusted beyond that: the builder is init's first child, pinned by a
// pidfd, and must lie in that cgroup; the identity the command takes is
// the one the builder's maps give it.
//
// A session is one command from Start to the exit status Relay sends last.
// Everything the command starts is killed with the session's cgroup when
// it exits or the client goes away, and with the build's scope when the
// build ends, is cancelled or times out.
package enter
