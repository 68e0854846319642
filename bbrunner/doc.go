// Package bbrunner serves the runner protocol of a remote-execution worker
// (gRPC service buildbarn.runner.Runner on a Unix socket): every action
// the worker hands over becomes an sdbuild build, with its own UID slot,
// systemd scope and namespaces, queued with every other build.
//
// Trust boundary: the worker is trusted to have fetched the action, not
// with the host. Every path in its requests is resolved beneath the
// configured build directory without following a symlink
// (sandbox.OpenBeneath), never as a plain path by root. The action itself
// is hostile: it sees only its input root and temporary directory, bound
// at their host paths, and the read-only sandbox paths.
//
// Inputs are hard links into the worker's cache, owned by the worker and
// read-only. An action must not change them, even as root of its user
// namespace. Before it starts, the runner lends the directories of its
// input root and temporary directory (which the worker made for this
// action alone) to the build's slot ids; files stay the worker's. The
// worker's id is not mapped in the action's user namespace, so the
// kernel grants the action no owner rights and no capability over an
// input: it cannot chmod or write one, only unlink its own directory
// entry, which leaves the cache intact. Once every process of the action
// is dead, everything owned by the slot's ids is handed back to the
// worker, without following a link, so that the worker can upload and
// delete it.
package bbrunner
