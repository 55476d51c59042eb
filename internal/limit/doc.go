// Package limit holds the limits that follow a person rather than a
// socket: token buckets keyed by user or client address (Keyed), the
// admission of new connections to a node (Gate: a cap per address, a cap
// per node and a paced accept rate) and the client address behind trusted
// proxies (ClientIP). It imports nothing of Parley's, so the transport,
// the hub and the server can all use it.
package limit
