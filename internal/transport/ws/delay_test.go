package ws

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestWriteDelayOnlyWhileWorkersLag: with a write delay configured, a
// connection written to a moment ago is held back only while the flush
// workers are behind; with CPU to spare its frame goes at once. Either
// way every frame arrives, in order.
func TestWriteDelayOnlyWhileWorkersLag(t *testing.T) {
	s := newWorkerServer(t, Config{WriteDelay: 200 * time.Millisecond}, 1)
	c, client := loopbackWS(t, s)
	read := func(want string) {
		t.Helper()
		_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
		typ, got, err := client.ReadMessage()
		if err != nil || typ != websocket.TextMessage || string(got) != want {
			t.Fatalf("read %q (type %d, err %v), want %q", got, typ, err, want)
		}
	}
	isDelayed := func() bool {
		s.dmu.Lock()
		defer s.dmu.Unlock()
		for _, d := range s.delayed {
			if d == c {
				return true
			}
		}
		return false
	}
	idle := func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			c.mu.Lock()
			writing := c.writing
			c.lastFlush = time.Now() // as if written just now
			c.mu.Unlock()
			if !writing {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the connection's writer never finished")
			}
			time.Sleep(time.Millisecond)
		}
	}

	s.lag.Store(0)
	idle()
	if !c.Send([]byte("one")) {
		t.Fatal("send refused")
	}
	if isDelayed() {
		t.Fatal("frame held back although the flush workers keep up")
	}
	read("one")

	idle()
	s.lag.Store(int64(busyLag))
	if !c.Send([]byte("two")) {
		t.Fatal("send refused")
	}
	if !c.Send([]byte("three")) {
		t.Fatal("send refused")
	}
	if !isDelayed() {
		t.Fatal("a connection written a moment ago was not held back while the flush workers lag")
	}
	read("two")
	read("three")
}

// TestReplyIsNotHeldBack: a reply to the client's own request releases a
// connection the write delay is holding, with the frames queued before it,
// in order; it is not kept for the delay (here far longer than the test
// waits).
func TestReplyIsNotHeldBack(t *testing.T) {
	s := newWorkerServer(t, Config{WriteDelay: time.Hour}, 1)
	c, client := loopbackWS(t, s)
	c.mu.Lock()
	c.lastFlush = time.Now()
	c.mu.Unlock()
	s.lag.Store(int64(busyLag))
	if !c.Send([]byte("broadcast")) {
		t.Fatal("send refused")
	}
	c.mu.Lock()
	held := c.held
	c.mu.Unlock()
	if !held {
		t.Fatal("the broadcast frame was not held back while the workers lag")
	}
	if !c.Reply([]byte("ack")) {
		t.Fatal("reply refused")
	}
	for _, want := range []string{"broadcast", "ack"} {
		_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, got, err := client.ReadMessage()
		if err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	// A reply to a connection that is not held back goes at once too.
	if !c.Reply([]byte("pong")) {
		t.Fatal("reply refused")
	}
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, got, err := client.ReadMessage(); err != nil || string(got) != "pong" {
		t.Fatalf("read %q, %v; want pong", got, err)
	}
}
