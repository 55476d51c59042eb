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
