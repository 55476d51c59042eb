// Package brokertest is the conformance suite every broker.Broker
// implementation must pass: a backend is done when Run is green against it.
package brokertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/broker"
)

// wait bounds every wait of the suite.
const wait = 5 * time.Second

// Run checks the Broker contract. open returns a fresh broker; Run closes it.
func Run(t *testing.T, open func(t *testing.T) broker.Broker) {
	t.Run("delivers to every subscriber of the subject only", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		a1, a2, other := newSink(), newSink(), newSink()
		mustSub(t, b, "room.a", a1)
		mustSub(t, b, "room.a", a2)
		mustSub(t, b, "room.b", other)
		if err := b.Publish(context.Background(), "room.a", []byte("hello")); err != nil {
			t.Fatal(err)
		}
		a1.waitFor(t, 1)
		a2.waitFor(t, 1)
		if got := a1.get(0); got != "hello" {
			t.Fatalf("got %q", got)
		}
		other.expectNone(t, 100*time.Millisecond)
	})
	t.Run("keeps one publisher's order", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		s := newSink()
		mustSub(t, b, "room.order", s)
		const n = 500
		for i := 0; i < n; i++ {
			if err := b.Publish(context.Background(), "room.order", []byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		s.waitFor(t, n)
		for i := 0; i < n; i++ {
			if got := s.get(i); got != fmt.Sprint(i) {
				t.Fatalf("event %d is %q: out of order", i, got)
			}
		}
	})
	t.Run("stops after unsubscribe", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		s := newSink()
		sub := mustSub(t, b, "room.u", s)
		_ = b.Publish(context.Background(), "room.u", []byte("one"))
		s.waitFor(t, 1)
		if err := sub.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
		if err := sub.Unsubscribe(); err != nil {
			t.Fatalf("second Unsubscribe: %v", err)
		}
		_ = b.Publish(context.Background(), "room.u", []byte("two"))
		s.expectNone(t, 100*time.Millisecond)
	})
	t.Run("publishing to no subscriber is fine", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		if err := b.Publish(context.Background(), "room.nobody", []byte("x")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("refuses work after Close", func(t *testing.T) {
		b := open(t)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := b.Publish(context.Background(), "room.c", []byte("x")); !errors.Is(err, broker.ErrClosed) {
			t.Fatalf("Publish after Close: %v, want ErrClosed", err)
		}
		if _, err := b.Subscribe("room.c", func([]byte) {}); !errors.Is(err, broker.ErrClosed) {
			t.Fatalf("Subscribe after Close: %v, want ErrClosed", err)
		}
	})
	t.Run("concurrent publishers and subscribers", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		s := newSink()
		mustSub(t, b, "room.many", s)
		var wg sync.WaitGroup
		for p := 0; p < 4; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 100; i++ {
					_ = b.Publish(context.Background(), "room.many", []byte("x"))
				}
			}()
		}
		// Subscribing and unsubscribing meanwhile must not disturb delivery.
		for i := 0; i < 50; i++ {
			sub, err := b.Subscribe("room.many", func([]byte) {})
			if err != nil {
				t.Fatal(err)
			}
			_ = sub.Unsubscribe()
		}
		wg.Wait()
		s.waitFor(t, 400)
	})
}

func mustSub(t *testing.T, b broker.Broker, subject string, s *sink) broker.Subscription {
	t.Helper()
	sub, err := b.Subscribe(subject, s.handle)
	if err != nil {
		t.Fatalf("subscribe %s: %v", subject, err)
	}
	return sub
}

// sink collects what a subscription receives.
type sink struct {
	mu     sync.Mutex
	events []string
	more   chan struct{}
}

func newSink() *sink { return &sink{more: make(chan struct{}, 1)} }

func (s *sink) handle(data []byte) {
	s.mu.Lock()
	s.events = append(s.events, string(data))
	s.mu.Unlock()
	select {
	case s.more <- struct{}{}:
	default:
	}
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

func (s *sink) get(i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events[i]
}

func (s *sink) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(wait)
	for s.count() < n {
		select {
		case <-s.more:
		case <-deadline:
			t.Fatalf("received %d events, want %d", s.count(), n)
		}
	}
}

func (s *sink) expectNone(t *testing.T, d time.Duration) {
	t.Helper()
	before := s.count()
	select {
	case <-s.more:
	case <-time.After(d):
	}
	if got := s.count(); got != before {
		t.Fatalf("received %d unexpected events", got-before)
	}
}
