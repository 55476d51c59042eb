package hub

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/broker/memory"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// fillHub is a hub over a real SQLite store whose busy rooms gather
// presence above batchAbove connections and never flush on their own:
// the test flushes when it wants to count.
func fillHub(tb testing.TB, batchAbove int) *Hub {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "parley.db"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	b := memory.New()
	h := New(Config{PresenceBatchAbove: batchAbove, PresenceInterval: time.Hour}, st, b, nil)
	tb.Cleanup(func() { h.Close(); b.Close(); st.Close() })
	return h
}

// fill connects n guests, each a user of their own, and joins connection
// i to room(i), one after the other. It returns the connections' senders.
func fill(tb testing.TB, h *Hub, n int, room func(i int) string) []*countingSender {
	tb.Helper()
	ctx := context.Background()
	senders := make([]*countingSender, n)
	for i := range senders {
		senders[i] = &countingSender{}
		id := fmt.Sprintf("guest:g%05d", i)
		c, err := h.Connect(ctx, fmt.Sprintf("c%d", i), Identity{User: protocol.User{ID: id, Name: id, Guest: true}}, senders[i])
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(c.Close)
		c.Handle(ctx, protocol.Envelope{Type: protocol.TypeJoin, ID: "j", Body: []byte(fmt.Sprintf(`{"room":%q}`, room(i)))})
	}
	return senders
}

// flushRoom sends a room's gathered presence now, as its timer would.
func flushRoom(h *Hub, key string) {
	s := &h.rooms[h.shard(key)]
	s.mu.Lock()
	r := s.rooms[key]
	s.mu.Unlock()
	if r != nil {
		r.flushPresence()
	}
}

func totalFrames(senders []*countingSender) int64 {
	var n int64
	for _, s := range senders {
		n += s.frames.Load()
	}
	return n
}

// framesToFill counts the frames sent while n users join one room and
// its gathered presence goes out once.
func framesToFill(t *testing.T, n int) int64 {
	h := fillHub(t, 10)
	senders := fill(t, h, n, func(int) string { return "townhall" })
	flushRoom(h, "townhall")
	return totalFrames(senders)
}

// TestFillingARoomCostsLinearFrames: filling a room of N users costs O(N)
// frames in all (each joiner's reply, then one presence_diff per member
// per interval), not one presence frame to every member for every join,
// which is N²/2. Four times the users must cost about four times the
// frames.
func TestFillingARoomCostsLinearFrames(t *testing.T) {
	small, large := framesToFill(t, 200), framesToFill(t, 800)
	ratio := float64(large) / float64(small)
	t.Logf("frames to fill a room: 200 users %d, 800 users %d, ratio %.2f", small, large, ratio)
	if ratio > 6 {
		t.Fatalf("filling a room of 800 took %d frames, %.1f times the %d of a room of 200: quadratic, want about 4", large, ratio, small)
	}
}

// BenchmarkFillRoom measures N users joining one room against N users
// each joining a room of their own, through the hub with a SQLite store:
// filling one room must not cost more per join as the room grows.
func BenchmarkFillRoom(b *testing.B) {
	for _, n := range []int{2000, 8000} {
		for _, one := range []bool{true, false} {
			name := fmt.Sprintf("users=%d/separate", n)
			if one {
				name = fmt.Sprintf("users=%d/one", n)
			}
			b.Run(name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					h := fillHub(b, 100)
					run := i
					b.StartTimer()
					fill(b, h, n, func(k int) string {
						if one {
							return fmt.Sprintf("one-%d", run)
						}
						return fmt.Sprintf("own-%d-%d", run, k)
					})
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "joins/s")
			})
		}
	}
}
