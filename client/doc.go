// Package client is the Go client SDK for Parley's WebSocket protocol v1
// (docs/PROTOCOL.md).
//
// Dial opens a session and returns a Client. Requests (Join, Leave, Send,
// Private, Ping) send a frame with a fresh id and wait for the reply the
// server tags with the same id; broadcasts arrive as Events.
//
// With Options.Reconnect set, a connection that ends unexpectedly is
// re-dialled with exponential backoff and full jitter. On every reconnect
// the client re-joins its rooms with since set to the last sequence it has
// seen in each, drops replayed events it already delivered, and resends
// every message still waiting for its ack with its original client_id, so
// the server stores it once. The result is the protocol's promise made
// concrete: every message of a joined room is delivered once, in room
// order, across disconnects shorter than the server's recovery window.
//
// A Client is safe for concurrent use. Close stops every goroutine it owns.
package client
