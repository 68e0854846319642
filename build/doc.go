// Package build runs one build from request to result: it checks the
// request, leases a UID slot, prepares the build's private directory, runs
// the sandbox while streaming its log and enforcing its time limits, and
// collects the outputs once every process of the build is dead.
//
// `sdbuild run --local` and the daemon run builds through the same Runner.
package build
