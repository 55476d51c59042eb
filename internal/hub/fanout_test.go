package hub

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parley-chat/parley/internal/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// countingSender is the far end of a connection in these tests: it counts
// frames and remembers the first byte's address of the last one, which tells
// whether recipients share one encoded frame.
type countingSender struct {
	frames    atomic.Int64
	bytes     atomic.Int64
	last      atomic.Pointer[byte]
	lastFrame atomic.Pointer[[]byte]
}

func (s *countingSender) Send(frame []byte) bool {
	s.frames.Add(1)
	s.bytes.Add(int64(len(frame)))
	s.last.Store(&frame[0])
	s.lastFrame.Store(&frame)
	return true
}

func (s *countingSender) Reply(frame []byte) bool { return s.Send(frame) }

func (s *countingSender) Close(int, string) {}

// benchRoom builds a ready room with n members, each its own connection.
func benchRoom(n int) (*room, []*countingSender) {
	h := New(Config{}, nil, nil, nil)
	r := &room{hub: h, key: "bench", members: make(map[*Client]*membership, n),
		users: newRoster(), typing: make(map[string]*time.Timer),
		pending: make(map[int64]pendingEvent), ready: true}
	senders := make([]*countingSender, n)
	for i := range senders {
		senders[i] = &countingSender{}
		c := &Client{hub: h, id: fmt.Sprintf("c%d", i), out: senders[i],
			ident: Identity{User: protocol.User{ID: fmt.Sprintf("u%d", i)}}}
		r.members[c] = &membership{}
	}
	return r, senders
}

func messageEvent(seq int64) []byte {
	frame := protocol.Encode(protocol.TypeMessage, "", protocol.MessageBody{
		Room: "bench", ID: "01JBENCHMARKMESSAGEID00000", Seq: seq, TS: "2026-11-26T10:00:00.000Z",
		From: protocol.User{ID: "u_sender", Name: "sender"}, Text: "hello, room",
	})
	return packEvent(kindStored, seq, "sender-conn", frame)
}

// TestBroadcastEncodesOnce checks that every member is handed the very same
// bytes: the event was encoded once, not once per recipient.
func TestBroadcastEncodesOnce(t *testing.T) {
	r, senders := benchRoom(50)
	r.deliver(messageEvent(1))
	first := senders[0].last.Load()
	for i, s := range senders {
		if s.frames.Load() != 1 {
			t.Fatalf("member %d got %d frames, want 1", i, s.frames.Load())
		}
		if s.last.Load() != first {
			t.Fatalf("member %d got a different copy of the frame", i)
		}
	}
}

// TestRoomOrdersEventsBySequence delivers events out of order and checks
// that members see them in sequence order, with duplicates dropped.
func TestRoomOrdersEventsBySequence(t *testing.T) {
	r, senders := benchRoom(3)
	defer r.stop()
	steps := []struct {
		seq  int64
		want int64 // frames a member has seen after the step
	}{
		{2, 0}, // early: waits for 1
		{3, 0},
		{1, 3}, // closes the gap: 1, 2, 3 go out
		{3, 3}, // duplicate: dropped
		{4, 4},
	}
	for _, st := range steps {
		r.deliver(messageEvent(st.seq))
		if got := senders[0].frames.Load(); got != st.want {
			t.Fatalf("after seq %d a member has %d frames, want %d", st.seq, got, st.want)
		}
	}
}

// BenchmarkBroadcast measures one stored message fanned out to every member
// of a room: encode once, then hand the same bytes to each member's queue.
// allocs/op stays the same whatever the room size, which is the encode-once
// guarantee seen from the allocator.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			r, _ := benchRoom(n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r.deliver(messageEvent(int64(i + 1)))
			}
			b.StopTimer()
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}
