package server_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

// seqChecker proves a stream of room sequences has no gap and no duplicate.
type seqChecker struct {
	t    *testing.T
	last int64
}

func (c *seqChecker) see(seq int64) {
	c.t.Helper()
	if seq != c.last+1 {
		c.t.Fatalf("got seq %d after %d: a gap or a duplicate", seq, c.last)
	}
	c.last = seq
}

// TestRecoveryUnderConcurrentWriters has three writers send to a room while
// a reader drops off and re-joins with the last sequence it saw, twice. The
// reader must see every message exactly once, in order.
func TestRecoveryUnderConcurrentWriters(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		testutil.WithExternalTokens(c)
		c.RateMessages = 100000
		c.RateBurst = 100000
		testutil.WithoutUserLimits(c)
	})
	const writers, perWriter = 3, 150
	total := int64(writers * perWriter)

	readerToken := testutil.ExternalToken(t, testutil.TokenClaims{Sub: "reader"})
	reader := ts.DialToken(t, "/ws", readerToken)
	reader.Send("join", "j", map[string]any{"room": "busy"})
	reader.Expect("joined", "unread")

	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		c := ts.DialToken(t, "/ws", testutil.ExternalToken(t, testutil.TokenClaims{Sub: fmt.Sprintf("writer%d", w)}))
		c.Send("join", "j", map[string]any{"room": "busy"})
		c.Expect("joined", "unread", "presence")
		go func() {
			defer wg.Done()
			// Not c.Send: it fails the test with FailNow, which must not be
			// called from a goroutine other than the test's.
			for i := 0; i < perWriter; i++ {
				frame := fmt.Sprintf(`{"type":"chat","id":"%d","body":{"room":"busy","text":"m%d"}}`, i, i)
				if err := c.Conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
					t.Errorf("writer: %v", err)
					return
				}
			}
		}()
	}

	check := &seqChecker{t: t}
	readSome := func(c *testutil.Client, n int) {
		for i := 0; i < n && check.last < total; i++ {
			var m msgBody
			c.Expect("message", "presence").Decode(t, &m)
			check.see(m.Seq)
		}
	}
	readSome(reader, 100)
	for round := 0; round < 2; round++ {
		reader.Close() // drop off while the writers keep going
		reader = ts.DialToken(t, "/ws", readerToken)
		reader.Send("join", "rj", map[string]any{"room": "busy", "since": check.last})
		var jb joinedBody
		reader.Expect("joined", "unread").Decode(t, &jb)
		if jb.Recovered == nil || !*jb.Recovered {
			t.Fatalf("re-join after seq %d: recovered = %v", check.last, jb.Recovered)
		}
		readSome(reader, 120)
	}
	readSome(reader, int(total))
	wg.Wait()
	if check.last != total {
		t.Fatalf("reader saw up to seq %d, want %d", check.last, total)
	}
	reader.ExpectNone(100*time.Millisecond, "presence")
}

// TestRecoveryPastTheWindowSaysSo checks that a gap larger than the window
// is reported instead of replayed.
func TestRecoveryPastTheWindowSaysSo(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.RecoveryWindow = 5
		c.RateBurst = 100
		testutil.WithoutUserLimits(c)
	})
	w := connect(t, ts, "writer", "lobby")
	for i := 0; i < 10; i++ {
		w.Send("chat", fmt.Sprint(i), map[string]any{"room": "lobby", "text": "x"})
		w.Expect("ack")
	}
	r := connect(t, ts, "reader", "")
	r.Send("join", "far", map[string]any{"room": "lobby", "since": 2})
	var jb joinedBody
	r.Expect("joined").Decode(t, &jb)
	if jb.Recovered == nil || *jb.Recovered || jb.LastSeq != 10 {
		t.Fatalf("joined %+v, want recovered false with last_seq 10", jb)
	}
	r.Send("join", "near", map[string]any{"room": "lobby", "since": 7})
	r.Expect("joined").Decode(t, &jb)
	if jb.Recovered == nil || !*jb.Recovered || jb.Replayed != 3 {
		t.Fatalf("joined %+v, want 3 replayed", jb)
	}
	check := &seqChecker{t: t, last: 7}
	for i := 0; i < 3; i++ {
		var m msgBody
		r.Expect("message").Decode(t, &m)
		check.see(m.Seq)
	}
}

// TestRetriedSendIsStoredOnce resends a message with the same client_id, as
// a client does when its connection dropped before the ack.
func TestRetriedSendIsStoredOnce(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	a := connect(t, ts, "alice", "lobby")
	b := connect(t, ts, "bob", "lobby")
	a.Expect("presence")
	var first, again ackBody
	a.Send("chat", "1", map[string]any{"room": "lobby", "text": "once", "client_id": "k1"})
	a.Expect("ack").Decode(t, &first)
	a.Send("chat", "2", map[string]any{"room": "lobby", "text": "once", "client_id": "k1"})
	a.Expect("ack").Decode(t, &again)
	if !again.Duplicate || again.MessageID != first.MessageID || again.Seq != first.Seq {
		t.Fatalf("retry ack %+v, first %+v", again, first)
	}
	b.Expect("message")
	b.ExpectNone(100 * time.Millisecond)
}

// fillRoom sends n messages to room from c, 32 at a time in flight (few
// enough that their acks fit a small send queue), and waits for every ack.
func fillRoom(t *testing.T, c *testutil.Client, room string, n int) {
	t.Helper()
	const inFlight = 32
	for sent, acked := 0, 0; acked < n; acked++ {
		for ; sent < n && sent-acked < inFlight; sent++ {
			frame := fmt.Sprintf(`{"type":"chat","id":"f%d","body":{"room":%q,"text":"m%d"}}`, sent, room, sent)
			c.SendRaw(websocket.TextMessage, []byte(frame))
		}
		c.Expect("ack", "presence")
	}
}

// TestRecoveryAtTheWindowsEdge re-joins with gaps of one event, of exactly
// the recovery window and of one more, at the default window and at one
// larger than a store read returns (1,000), on both stores: the first two
// replay every missed event in order, the last replays nothing and says so.
// recovered must never be true for a replay that is not complete.
func TestRecoveryAtTheWindowsEdge(t *testing.T) {
	testutil.EachStore(t, func(t *testing.T, useStore func(*config.Config)) {
		for _, window := range []int{1000, 2500} {
			t.Run(fmt.Sprint("window ", window), func(t *testing.T) {
				ts := testutil.StartServer(t, func(c *config.Config) {
					useStore(c)
					c.RecoveryWindow = window
					c.RateMessages = 100000
					c.RateBurst = 100000
					testutil.WithoutUserLimits(c)
				})
				total := int64(window + 5)
				w := connect(t, ts, "writer", "lobby")
				fillRoom(t, w, "lobby", int(total))
				for _, tc := range []struct {
					name      string
					gap       int64
					recovered bool
				}{
					{"one event", 1, true},
					{"exactly the window", int64(window), true},
					{"one past the window", int64(window) + 1, false},
				} {
					t.Run(tc.name, func(t *testing.T) {
						r := connect(t, ts, "reader", "")
						since := total - tc.gap
						r.Send("join", "rj", map[string]any{"room": "lobby", "since": since})
						var jb joinedBody
						r.Expect("joined").Decode(t, &jb)
						if jb.LastSeq != total || jb.Recovered == nil || *jb.Recovered != tc.recovered {
							t.Fatalf("joined since %d: last_seq %d, recovered %v; want %d, %v",
								since, jb.LastSeq, jb.Recovered, total, tc.recovered)
						}
						if !tc.recovered {
							if jb.Replayed != 0 {
								t.Fatalf("replayed %d events of an incomplete recovery", jb.Replayed)
							}
							r.Send("ping", "after", nil)
							// No message before it; the previous case's
							// reader may still be leaving (presence).
							r.Expect("pong", "presence")
							return
						}
						if int64(jb.Replayed) != tc.gap {
							t.Fatalf("replayed %d, want %d", jb.Replayed, tc.gap)
						}
						check := &seqChecker{t: t, last: since}
						for check.last < total {
							var m msgBody
							r.Expect("message", "presence").Decode(t, &m)
							check.see(m.Seq)
						}
						r.Send("ping", "after", nil)
						r.Expect("pong", "presence")
					})
				}
			})
		}
	})
}

// TestReplayLargerThanTheSendQueueIsNotAttempted: missed events that would
// not fit the connection's send queue are not replayed (which would cut the
// client off as too slow, 4008, on every re-join); the join says recovery
// is incomplete and the connection stays, so the client pages history.
func TestReplayLargerThanTheSendQueueIsNotAttempted(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.MaxMessageLength = 100
		c.MaxFrameBytes = 2048
		c.SendQueueBytes = 8192
		c.RateMessages = 100000
		c.RateBurst = 100000
		testutil.WithoutUserLimits(c)
	})
	w := connect(t, ts, "writer", "lobby")
	fillRoom(t, w, "lobby", 200) // about 35 KB of message frames
	r := connect(t, ts, "reader", "")
	r.Send("join", "rj", map[string]any{"room": "lobby", "since": 0})
	var jb joinedBody
	r.Expect("joined").Decode(t, &jb)
	if jb.Recovered == nil || *jb.Recovered || jb.Replayed != 0 {
		t.Fatalf("joined %+v, want recovered false and nothing replayed", jb)
	}
	r.Send("history", "h", map[string]any{"room": "lobby", "after": 0, "limit": 20})
	r.Expect("history")
}
