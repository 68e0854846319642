// Package doctor checks whether this host can run sdbuild's sandbox and
// each of its features, and says why not.
//
// It works in two steps kept apart so the second is tested without
// privileges: [Gather] (Linux only) reads the host — procfs and sysfs
// files, sysctls, mounts, device nodes, PATH — and probes it by creating
// each kind of namespace and connecting to systemd; [Diagnose] turns those
// facts, a [Host], into a [Report] of checks and features, each ok,
// missing or warning with a reason a person can act on.
//
// The namespace probes start sandbox's probe (argv[0]
// "sdbuild-sandbox-probe"): sdbuild-init when the program named it
// (sandbox.SetInitBinary), else the calling binary re-executed, so a
// program that calls Gather must call sandbox.MaybeInit first thing in
// main, as sdbuild does.
package doctor
