// Package memory is the in-process Broker, Parley's default on a single node:
// Publish hands the event straight to each subscriber's handler on the
// publishing goroutine, so there is no copy, no queue and no extra goroutine.
package memory

import (
	"context"
	"sync"

	"github.com/parley-chat/parley/internal/broker"
)

// Broker is an in-process broker.Broker. The zero value is not usable; call New.
type Broker struct {
	mu     sync.RWMutex
	subs   map[string][]*sub
	closed bool
}

type sub struct {
	b       *Broker
	subject string
	h       broker.Handler
}

// New returns an empty in-process broker.
func New() *Broker { return &Broker{subs: make(map[string][]*sub)} }

// Publish calls every subscriber's handler synchronously, in subscription
// order. Handlers must not block (see broker.Handler), which keeps one
// publisher's events in order for each subscriber.
func (b *Broker) Publish(_ context.Context, subject string, data []byte) error {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return broker.ErrClosed
	}
	subs := b.subs[subject]
	b.mu.RUnlock()
	// subs is copy-on-write, so calling outside the lock is safe and lets a
	// handler subscribe or unsubscribe without deadlocking.
	for _, s := range subs {
		s.h(data)
	}
	return nil
}

// Subscribe registers h for subject.
func (b *Broker) Subscribe(subject string, h broker.Handler) (broker.Subscription, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, broker.ErrClosed
	}
	s := &sub{b: b, subject: subject, h: h}
	old := b.subs[subject]
	next := make([]*sub, len(old), len(old)+1)
	copy(next, old)
	b.subs[subject] = append(next, s)
	return s, nil
}

// Unsubscribe removes the subscription.
func (s *sub) Unsubscribe() error {
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.subs[s.subject]
	next := make([]*sub, 0, len(old))
	for _, o := range old {
		if o != s {
			next = append(next, o)
		}
	}
	if len(next) == 0 {
		delete(b.subs, s.subject)
	} else {
		b.subs[s.subject] = next
	}
	return nil
}

// Close drops every subscription; later calls fail with broker.ErrClosed.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.subs = make(map[string][]*sub)
	return nil
}
