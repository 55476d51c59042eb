// Package ws is Parley's WebSocket transport: the upgrade (origin check,
// subprotocol, authentication), one reader and one bounded, on-demand writer
// per connection, heartbeats, and the protocol-level limits (frame size,
// UTF-8, binary frames, rate). It is the only package that imports the
// WebSocket library, so the library can be swapped without touching the hub.
package ws
