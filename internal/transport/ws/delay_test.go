package ws

import (
	"fmt"
	"sync/atomic"
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
		waitWriterDone(t, c)
		c.mu.Lock()
		c.lastFlush = time.Now() // as if written just now
		c.mu.Unlock()
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

// TestDelayAndRepliesUnderLoad: frames sent and replies made from two
// goroutines, while the flush workers are made to look behind so that the
// connection keeps being held back and released early, all arrive, each
// stream in its own order.
func TestDelayAndRepliesUnderLoad(t *testing.T) {
	s := newWorkerServer(t, Config{WriteDelay: 2 * time.Millisecond, SendQueueBytes: 16 << 20}, 2)
	c, client := loopbackWS(t, s)
	const n = 3000
	stop := make(chan struct{})
	lagging := make(chan struct{})
	var sawHeld atomic.Bool
	go func() {
		defer close(lagging)
		for {
			select {
			case <-stop:
				return
			default:
				s.lag.Store(int64(busyLag)) // the workers overwrite it on every pass
				c.mu.Lock()
				if c.held {
					sawHeld.Store(true)
				}
				c.mu.Unlock()
				time.Sleep(50 * time.Microsecond)
			}
		}
	}()
	defer func() { close(stop); <-lagging }()
	sent := make(chan error, 2)
	for _, stream := range []string{"s", "r"} {
		go func() {
			for i := range n {
				frame := []byte(fmt.Sprintf("%s%d", stream, i))
				ok := false
				if stream == "s" {
					ok = c.Send(frame)
				} else {
					ok = c.Reply(frame)
				}
				if !ok {
					sent <- fmt.Errorf("%s refused at %d", stream, i)
					return
				}
				if i%10 == 9 {
					// Let the queue empty now and then, so that the next
					// frame finds the connection idle and is scheduled
					// afresh, into the delay.
					time.Sleep(200 * time.Microsecond)
				}
			}
			sent <- nil
		}()
	}
	next := map[byte]int{'s': 0, 'r': 0}
	for got := 0; got < 2*n; got++ {
		_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := client.ReadMessage()
		if err != nil {
			t.Fatalf("after %d frames: %v", got, err)
		}
		var i int
		if _, err := fmt.Sscanf(string(b[1:]), "%d", &i); err != nil || i != next[b[0]] {
			t.Fatalf("got %q, want %c%d next", b, b[0], next[b[0]])
		}
		next[b[0]]++
	}
	for range 2 {
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
	}
	if !sawHeld.Load() {
		t.Error("the connection was never held back: the test did not exercise the write delay")
	}
}

// TestRepliesGoFirst: a connection whose turn a reply started is written
// before connections that were waiting with broadcast frames, so an ack
// does not wait behind a sweep of a large room.
func TestRepliesGoFirst(t *testing.T) {
	s := newWorkerServer(t, Config{}, 0) // no workers: the test takes the turns
	broadcast, _ := loopbackWS(t, s)
	waiting, _ := loopbackWS(t, s)
	if !broadcast.Send([]byte("broadcast")) {
		t.Fatal("send refused")
	}
	if !waiting.Reply([]byte("ack")) {
		t.Fatal("reply refused")
	}
	for _, want := range []*conn{waiting, broadcast} {
		c, ok := s.next()
		if !ok || c != want {
			t.Fatalf("next = %p, %v; want %p (reply %p, broadcast %p)", c, ok, want, waiting, broadcast)
		}
		c.workerPass()
	}
	select {
	case c := <-s.ready:
		t.Fatalf("connection %p left in the queue", c)
	case c := <-s.replies:
		t.Fatalf("connection %p left in the reply queue", c)
	default:
	}
}

// TestDelayHoldsOnlyBusyConnections: even while the flush workers lag, a
// connection last written more than half the delay ago is written at once —
// holding it would gather a frame or two for up to the whole delay — and
// one written more recently is held.
func TestDelayHoldsOnlyBusyConnections(t *testing.T) {
	const d = time.Hour
	s := newWorkerServer(t, Config{WriteDelay: d}, 1)
	c, client := loopbackWS(t, s)
	s.lag.Store(int64(busyLag))
	for _, tc := range []struct {
		since time.Duration
		held  bool
	}{
		{d * 3 / 4, false},
		{d / 4, true},
	} {
		c.mu.Lock()
		c.lastFlush = time.Now().Add(-tc.since)
		c.mu.Unlock()
		s.lag.Store(int64(busyLag)) // a worker pass may have lowered it
		if !c.Send([]byte("frame")) {
			t.Fatal("send refused")
		}
		c.mu.Lock()
		held := c.held
		c.mu.Unlock()
		if held != tc.held {
			t.Fatalf("written %v ago: held = %v, want %v", tc.since, held, tc.held)
		}
		want := []string{"frame"}
		if held { // a reply releases it, with the frame
			if !c.Reply([]byte("release")) {
				t.Fatal("reply refused")
			}
			want = append(want, "release")
		}
		for _, frame := range want {
			_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, got, err := client.ReadMessage(); err != nil || string(got) != frame {
				t.Fatalf("read %q, %v; want %q", got, err, frame)
			}
		}
		waitWriterDone(t, c) // before the next case sets lastFlush
	}
}

// waitWriterDone waits until no worker or writer goroutine is on c.
func waitWriterDone(t *testing.T, c *conn) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		writing := c.writing
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
