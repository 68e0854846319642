// Package api defines sdbuild's HTTP API over its Unix socket: the wire
// types, the paths under /v1, and a client.
package api
