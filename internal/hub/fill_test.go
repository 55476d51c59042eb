package hub

import (
	"context"
	"encoding/json"
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

func total(senders []*countingSender) (frames, bytes int64) {
	for _, s := range senders {
		frames += s.frames.Load()
		bytes += s.bytes.Load()
	}
	return frames, bytes
}

// costToFill counts the frames and bytes sent while n users join one room
// and its gathered presence goes out once, and returns the diff the first
// member got.
func costToFill(t *testing.T, n int) (frames, bytes int64, diff protocol.PresenceDiffBody) {
	h := fillHub(t, 10)
	senders := fill(t, h, n, func(int) string { return "townhall" })
	flushRoom(h, "townhall")
	var f struct {
		Type string                    `json:"type"`
		Body protocol.PresenceDiffBody `json:"body"`
	}
	if err := json.Unmarshal(*senders[0].lastFrame.Load(), &f); err != nil || f.Type != protocol.TypePresenceDiff {
		t.Fatalf("the first member's last frame is %s (%v), want a presence_diff", *senders[0].lastFrame.Load(), err)
	}
	frames, bytes = total(senders)
	return frames, bytes, f.Body
}

// TestFillingARoomCostsLinearFrames: filling a room of N users costs O(N)
// frames and bytes in all (each joiner's reply, then one presence_diff of
// at most 100 joins per member per interval), not one presence frame to
// every member for every join, nor a diff listing every arrival to every
// member, both N²/2 users. Four times the users must cost about four
// times the frames and the bytes.
func TestFillingARoomCostsLinearFrames(t *testing.T) {
	smallF, smallB, _ := costToFill(t, 200)
	largeF, largeB, diff := costToFill(t, 800)
	fr, br := float64(largeF)/float64(smallF), float64(largeB)/float64(smallB)
	t.Logf("to fill a room: 200 users %d frames %d bytes, 800 users %d frames %d bytes; ratios %.2f and %.2f",
		smallF, smallB, largeF, largeB, fr, br)
	if fr > 6 {
		t.Errorf("filling a room of 800 took %d frames, %.1f times the %d of a room of 200: quadratic, want about 4", largeF, fr, smallF)
	}
	if br > 6 {
		t.Errorf("filling a room of 800 took %d bytes, %.1f times the %d of a room of 200: quadratic, want about 4", largeB, br, smallB)
	}
	// The diff names the first 100 arrivals by id and counts them all.
	if len(diff.Joins) != 100 || !diff.Truncated || diff.MemberCount != 800 || diff.Joins[0].ID >= diff.Joins[99].ID {
		t.Errorf("the diff has %d joins (truncated %v) and member_count %d; want the first 100 by id, truncated, and 800",
			len(diff.Joins), diff.Truncated, diff.MemberCount)
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

// TestDiffIntervalGrowsWithTheRoom: a busy room's presence_diff interval
// is PresenceInterval up to 10 × PresenceBatchAbove local connections and
// one more interval for each such step, so that a room's diffs stay near
// a fixed number of frames a second however many members get them.
func TestDiffIntervalGrowsWithTheRoom(t *testing.T) {
	h := New(Config{PresenceBatchAbove: 100, PresenceInterval: time.Second}, nil, nil, nil)
	for _, tt := range []struct {
		members int
		want    time.Duration
	}{{101, time.Second}, {1000, time.Second}, {1001, 2 * time.Second}, {10000, 10 * time.Second}, {10001, 11 * time.Second}} {
		r, _ := benchRoom(tt.members)
		r.hub = h
		if got := r.diffIntervalLocked(); got != tt.want {
			t.Errorf("a room of %d connections gathers presence for %v, want %v", tt.members, got, tt.want)
		}
	}
}
