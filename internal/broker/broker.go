// Package broker defines how Parley nodes pass room and user events to each
// other. The hub publishes every event it fans out through a Broker, and
// delivers to its local connections what its subscriptions receive, so the
// hub works the same on one node (memory) and on many (NATS).
package broker

import (
	"context"
	"errors"
)

// ErrClosed is returned by Publish and Subscribe after Close.
var ErrClosed = errors.New("broker closed")

// Handler receives the data of one published event. It runs on a goroutine
// owned by the broker and must not block: the hub only enqueues bytes in it.
// The slice is shared with every other subscriber and must not be modified
// or retained beyond the immutable use the hub makes of it.
type Handler func(data []byte)

// Subscription is an active interest in one subject.
type Subscription interface {
	// Unsubscribe stops delivery: events published after it returns do not
	// reach the handler (one already being delivered may still finish). It is
	// safe to call more than once.
	Unsubscribe() error
}

// Broker carries events between publishers and subscribers by subject.
//
// Contract, checked by brokertest.Run for every implementation:
//   - Events published on one subject by one publisher reach each subscriber
//     in publish order. Across publishers there is no order; the hub orders
//     room events by their store sequence itself.
//   - Delivery is at-most-once: an event may be lost if a node or the network
//     fails. Stored events are recovered from the store, never the broker.
//   - Publish does not wait for subscribers to handle the event.
//   - The data slice passed to Publish is owned by the broker afterwards.
type Broker interface {
	// Publish sends data to every current subscriber of subject.
	Publish(ctx context.Context, subject string, data []byte) error
	// Subscribe calls h for every event published on subject from now on.
	Subscribe(subject string, h Handler) (Subscription, error)
	// Close stops all subscriptions and waits for running handlers.
	Close() error
}
