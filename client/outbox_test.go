package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

// TestOutboxAcrossServerRestart stops the server while sends are in flight
// and makes more while it is down: once it is back on the same address and
// database, every send has its ack, and each message is stored and
// delivered exactly once.
func TestOutboxAcrossServerRestart(t *testing.T) {
	first := startServer(t, nil)
	opts := func(name string) client.Options {
		return client.Options{Name: name, Reconnect: true, BackoffMin: 5 * time.Millisecond,
			BackoffMax: 100 * time.Millisecond, EventBuffer: 1024}
	}
	alice := dial(t, first, opts("alice"))
	bob := dial(t, first, opts("bob"))
	join(t, alice, "lobby")
	join(t, bob, "lobby")

	long, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		wg    sync.WaitGroup
		acked atomic.Int32
		errs  = make(chan error, 100)
		texts []string
	)
	send := func(text string) {
		wg.Go(func() {
			if _, err := alice.Send(long, "lobby", text); err != nil {
				errs <- fmt.Errorf("send %s: %w", text, err)
				return
			}
			acked.Add(1)
		})
	}
	const writers, each = 4, 15
	for w := range writers {
		for i := range each {
			texts = append(texts, fmt.Sprintf("w%d-%02d", w, i))
		}
		wg.Go(func() {
			for i := range each {
				if _, err := alice.Send(long, "lobby", fmt.Sprintf("w%d-%02d", w, i)); err != nil {
					errs <- err
					return
				}
				acked.Add(1)
			}
		})
	}
	testutil.Eventually(t, wait, func() bool { return acked.Load() >= 8 }, "no acks before the stop")
	if err := first.Stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}
	// While the server is down, sends wait in the outbox.
	before := acked.Load()
	for i := range 10 {
		text := fmt.Sprintf("down-%02d", i)
		texts = append(texts, text)
		send(text)
	}
	testutil.Eventually(t, wait, func() bool { return alice.OutboxLen() >= 10 }, "sends made while down are not in the outbox")
	if got := acked.Load(); got != before {
		t.Fatalf("%d sends acked while the server was down", got-before)
	}

	startServer(t, func(c *config.Config) {
		c.Addr = strings.TrimPrefix(first.URL, "http://")
		c.DataDir = first.Config.DataDir
		c.DatabaseURL = first.Config.DatabaseURL
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := alice.OutboxLen(); n != 0 {
		t.Fatalf("%d sends left in the outbox", n)
	}

	// Bob, reconnected and recovered, has every message once.
	seen := map[string]bool{}
	for len(seen) < len(texts) {
		ev := next(t, bob, client.EventMessage)
		if seen[ev.Message.Text] {
			t.Fatalf("bob got %q twice", ev.Message.Text)
		}
		seen[ev.Message.Text] = true
	}
	noEvent(t, bob, client.EventMessage)
	// And the store has each once, with no gap.
	stored := map[string]int{}
	var seq int64
	for page, err := range bob.HistoryPages(ctx(t), "lobby", client.HistoryOptions{Forward: true, Limit: 25}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			if seq++; m.Seq != seq {
				t.Fatalf("stored seq %d, want %d", m.Seq, seq)
			}
			stored[m.Text]++
		}
	}
	for _, text := range texts {
		if stored[text] != 1 {
			t.Errorf("%q stored %d times", text, stored[text])
		}
	}
	if len(stored) != len(texts) {
		t.Fatalf("%d distinct messages stored, want %d", len(stored), len(texts))
	}
}

// TestSendRetriesWhenRateLimited sends far past the rate limit: each send
// refused with rate_limited is resent after the server's retry_after_ms,
// and every one ends stored once.
func TestSendRetriesWhenRateLimited(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.RateMessages = 20
		c.RateBurst = 5
	})
	c := dial(t, ts, client.Options{Name: "eager"})
	join(t, c, "lobby")
	const n = 30
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if _, err := c.Send(ctx(t), "lobby", fmt.Sprintf("m%d", i)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("send: %v", err)
	}
	page, err := c.History(ctx(t), "lobby", client.HistoryOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, m := range page {
		stored[m.Text] = true
	}
	if len(page) != n || len(stored) != n {
		t.Fatalf("%d messages stored (%d distinct), want %d", len(page), len(stored), n)
	}
}

// TestOutboxIsBounded: with MaxOutbox sends waiting, a further send waits
// for room without joining the outbox, its ctx ends the wait, and a send
// given up on leaves the outbox.
func TestOutboxIsBounded(t *testing.T) {
	ts := startServer(t, nil)
	k := &cutter{}
	opts := reconnecting(k, "alice")
	opts.MaxOutbox = 2
	alice := dial(t, ts, opts)
	join(t, alice, "lobby")
	k.cut()

	done := make(chan error, 2)
	for i := range 2 {
		go func() {
			_, err := alice.Send(ctx(t), "lobby", fmt.Sprintf("held %d", i))
			done <- err
		}()
	}
	testutil.Eventually(t, wait, func() bool { return alice.OutboxLen() == 2 }, "the outbox never held 2 sends")
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := alice.Send(short, "lobby", "one too many"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a send past MaxOutbox: %v, want the ctx's deadline", err)
	}
	if n := alice.OutboxLen(); n != 2 {
		t.Fatalf("outbox holds %d, want 2", n)
	}
	k.open()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatalf("held send: %v", err)
		}
	}
	// A send whose ctx ends while disconnected leaves the outbox.
	k.cut()
	if _, err := alice.Send(short, "lobby", "given up"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("send while down with an expired ctx: %v", err)
	}
	if n := alice.OutboxLen(); n != 0 {
		t.Fatalf("outbox holds %d after the send gave up, want 0", n)
	}
	k.open()
	// A request made before the client has noticed the cut connection
	// fails with it ("connection lost before the reply"); once the client
	// is back, history answers.
	var page []client.Message
	testutil.Eventually(t, wait, func() bool {
		var err error
		page, err = alice.History(ctx(t), "lobby", client.HistoryOptions{})
		return err == nil
	}, "history never answered after the connection came back")
	if len(page) != 2 {
		t.Fatalf("%d messages stored, want the 2 held ones", len(page))
	}
}
