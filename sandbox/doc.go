// Package sandbox runs one builder in fresh namespaces on a fresh root.
//
// The sandbox is two processes, both created by the kernel's clone and
// never by unshare (a Go process is multi-threaded and cannot unshare a
// user namespace):
//
//   - init, the lean sdbuild-init or else our own binary re-executed (see
//     [SetInitBinary] and [MaybeInit]), starts in new mount, pid, ipc, uts
//     and network namespaces but in the caller's user namespace. It builds
//     the root file system (tmpfs, read-only inputs, /proc, a minimal
//     /dev, /etc, the writable /build, /tmp and /out), pivots into it,
//     brings up loopback, and is PID 1 of the build.
//   - the builder, cloned by init with a new user namespace (mapping one id,
//     or with the uid-range feature the slot's whole range) and a new mount
//     namespace. Because the builder's mount namespace is a copy owned by a
//     less privileged user namespace, the kernel locks every mount init
//     made (MNT_LOCKED, MNT_LOCK_READONLY, …): the builder, even as root in
//     its namespace, cannot unmount an input (EINVAL) or remount it
//     read-write (EPERM). This is Guix's "second user namespace".
//
// A caller without root (a user's own daemon, [UserNS]) gives init a user
// namespace of its own, where the caller is root and, with subordinate ids
// mapped by newuidmap and newgidmap, ids 1.. are the slot's. The builder's
// user namespace is then created inside init's, so init's mounts are
// locked for it all the same; the builder is root only over subordinate
// ids, never as the caller. Once the build is dead init hands its files
// back to the caller ([Reclaim] does it for a build whose init was killed).
//
// Every process of the sandbox that is sdbuild's is one of the stages
// listed in stages_linux.go, each started by argv[0]. The spec travels to
// init over an inherited socket (fd 3), never argv or the environment;
// every message of every stage is one of the steps listed in proto.go, in
// the one framing of control_linux.go. Parent and init talk in those steps: init says
// "ready" once the root is built, the parent places it (for example in a
// systemd scope) and says "go", init starts the builder and reports its
// result. When init exits the kernel kills every process left in the
// build's pid namespace before the parent's wait returns, so nothing the
// build started outlives it.
//
// A sandbox can be prepared ahead of demand ([SpawnPrepared]): init builds
// the part of the root every build has alike (a fresh tmpfs with /etc,
// /dev, /proc and the empty build directories), says ready, and waits;
// [Process.Fill] later hands it one build's own part (argv, environment,
// inputs, the client's credentials, the slot's ids), after which init
// mounts the inputs, gives the build directories to the slot and pivots,
// exactly as for a sandbox started for its build. A prepared sandbox is
// filled once, and is for a caller with root and a build without features.
//
// Names: a function ending in OnThread changes or relies on state of the
// OS thread it runs on (credentials, namespaces, the keyring, the
// parent-death signal) and runs only on a thread locked for good; across
// sdbuild, …Locked means only that the caller holds a mutex.
package sandbox
