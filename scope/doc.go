// Package scope starts and stops the transient systemd scope that holds one
// build.
//
// A scope is systemd's unit for processes somebody else started: Start hands
// systemd the build's first pids, and systemd moves them into
// /<slice>/<name> in the cgroup2 tree with Delegate=yes, so the build's
// sandbox may manage cgroups below it. CollectMode=inactive-or-failed makes
// systemd forget a scope as soon as it ends, however it ended, so a name can
// be used again.
//
// # One connection
//
// A Manager keeps a single go-systemd connection (two sockets: calls and the
// JobRemoved signals) for its whole life, on the system bus, or as root on
// /run/systemd/private when there is no bus or systemd is not on it (as for a
// moment after the bus restarts): a new connection costs 3-7 ms, a scope
// start on a kept one about 2 ms. The connection is made with
// dbus.NewConnection and our own dialer instead of dbus.NewWithContext, because
// the latter binds the connection's life to the context it is given (the
// first call's deadline would close it) and gives no way to notice that the
// bus went away while a job result is awaited.
//
// When systemd or the bus restarts, the connection breaks. The next call that
// fails on the broken connection makes a new one and is retried once. A job
// whose result was lost that way is judged by the unit's state afterwards.
//
// # Jobs
//
// Job result channels are buffered (go-systemd blocks its signal dispatch
// until a result is read). A result other than "done", or a deadline, is an
// error, after which the unit's failed state is reset so the name is free.
//
// # Locking
//
// Manager.mu guards the connection only and is never held during a D-Bus call.
package scope
