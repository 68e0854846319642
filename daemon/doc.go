// Package daemon is sdbuildd: it accepts builds over its Unix socket,
// queues them in FIFO order until a UID slot and a job are free, runs each
// in a transient systemd scope of its own, and records them.
//
// Lock order: Daemon.mu, then a job's fields (guarded by Daemon.mu too).
// Daemon.mu is never held across D-Bus calls, file I/O or a build.
package daemon
