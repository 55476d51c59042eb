package limit

import "sync/atomic"

// Node gathers the limits the transport applies on one node. Nil fields
// (and a nil *Node) limit nothing.
type Node struct {
	// Gate admits new connections.
	Gate *Gate
	// UserMessages and AddressMessages limit the frames that write a
	// message (chat, private, edit, delete, react) per user and per
	// address key, over all their connections to this node.
	UserMessages, AddressMessages *Keyed
	// UserJoins and AddressJoins limit join frames likewise.
	UserJoins, AddressJoins *Keyed
	// ConnRefused counts frames refused by a connection's own bucket.
	ConnRefused atomic.Uint64
}
