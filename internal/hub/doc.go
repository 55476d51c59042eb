// Package hub is Parley's in-memory routing core on one node: which
// connections are in which rooms, who is online, typing indicators, and the
// fan-out of every event to the local connections that should see it.
//
// The hub knows nothing of WebSockets, SQL or NATS. It talks to a Sender per
// connection (the transport's bounded queue), to store.Store for anything
// durable and to broker.Broker for every event, so that the same code serves
// one node with the in-process broker and many nodes with NATS.
//
// Each event is encoded once; every recipient's Sender is handed the same
// immutable byte slice. Stored room events are delivered in room-sequence
// order: a room buffers events that arrive early and, if a gap lasts, fills it
// from the store. Lock order is written down in LOCKING.md.
package hub
