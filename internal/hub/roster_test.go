package hub

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/broker/memory"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
)

// countingPresence counts the room rosters read from the store.
type countingPresence struct {
	store.Presence
	reads atomic.Int64
}

func (p *countingPresence) RoomPresence(ctx context.Context, room string, limit int) ([]store.PresenceUser, int, error) {
	p.reads.Add(1)
	return p.Presence.RoomPresence(ctx, room, limit)
}

// TestBusyRoomReadsItsRosterOncePerInterval: in a cluster, a join reads
// the room's roster from the store (who is there through any node, and
// how many), which counts the whole room; past the presence batching
// threshold the joins of an interval share one read, so filling a room of
// N costs O(N) rows read, not O(N²).
func TestBusyRoomReadsItsRosterOncePerInterval(t *testing.T) {
	st, err := postgres.Open(context.Background(), pgtest.FreshSchema(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &countingPresence{Presence: st}
	b := memory.New()
	h := New(Config{PresenceBatchAbove: 10, PresenceInterval: time.Hour,
		Cluster: &Cluster{Node: "n1", Presence: p}}, st, b, nil)
	t.Cleanup(func() { h.Close(); b.Close(); st.Close() })
	senders := fill(t, h, 200, func(int) string { return "townhall" })
	// The first eleven joins (up to 10 members, then the one that makes
	// the room busy) read it each; the rest share one read.
	if n := p.reads.Load(); n > 13 {
		t.Fatalf("200 joins read the room's roster %d times; a busy room should read it once an interval", n)
	}
	if f := senders[199].lastFrame.Load(); f == nil {
		t.Fatal("the last joiner got no reply")
	}
}
