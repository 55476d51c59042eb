package hub

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/broker/memory"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
)

// BenchmarkClusterConnectClose measures a storm on one cluster node over
// PostgreSQL: n connections at once each connect and join a room (n/10
// rooms), then all close at once. It reports connections a second; every
// connect, join, leave and close touches the node's rows in PostgreSQL.
func BenchmarkClusterConnectClose(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		b.Run(fmt.Sprint("conns=", n), func(b *testing.B) {
			st, err := postgres.Open(context.Background(), pgtest.FreshSchema(b), nil)
			if err != nil {
				b.Fatal(err)
			}
			br := memory.New()
			h := New(Config{Cluster: &Cluster{Node: "n1", Presence: st}}, st, br, nil)
			b.Cleanup(func() { h.Close(); br.Close(); _ = st.Close() })
			ctx := context.Background()
			b.ResetTimer()
			for it := range b.N {
				clients := make([]*Client, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						id := fmt.Sprintf("guest:b%d-%d", it, i)
						c, err := h.Connect(ctx, fmt.Sprint("c", i), Identity{User: protocol.User{ID: id, Name: id, Guest: true}}, &countingSender{})
						if err != nil {
							b.Error(err)
							return
						}
						clients[i] = c
						c.Handle(ctx, protocol.Envelope{Type: protocol.TypeJoin, ID: "j", Body: fmt.Appendf(nil, `{"room":"r%d"}`, i%(n/10))})
					})
				}
				wg.Wait()
				for _, c := range clients {
					if c != nil {
						wg.Go(c.Close)
					}
				}
				wg.Wait()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "conns/s")
		})
	}
}

// writeCounter counts the writes a hub makes to the presence store.
type writeCounter struct {
	store.Presence
	writes atomic.Int64
}

func (p *writeCounter) WriteNodeState(ctx context.Context, node string, conns []store.NodeConns, presence []store.NodePresence, full bool) error {
	if !full {
		p.writes.Add(1)
	}
	return p.Presence.WriteNodeState(ctx, node, conns, presence, full)
}

// TestClusterWritesAreBatched: 1,000 connections at once that connect,
// join a room and close make far fewer writes to PostgreSQL than
// connections (a transaction for each connect, join, leave and close
// made 4,000), and the rows end right.
func TestClusterWritesAreBatched(t *testing.T) {
	const n = 1000
	st, err := postgres.Open(context.Background(), pgtest.FreshSchema(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &writeCounter{Presence: st}
	br := memory.New()
	h := New(Config{Cluster: &Cluster{Node: "n1", Presence: p, Heartbeat: time.Hour}}, st, br, nil)
	t.Cleanup(func() { h.Close(); br.Close(); _ = st.Close() })
	ctx := context.Background()
	clients := make([]*Client, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("guest:w%d", i)
			c, err := h.Connect(ctx, fmt.Sprint("c", i), Identity{User: protocol.User{ID: id, Name: id, Guest: true}}, &countingSender{})
			if err != nil {
				t.Error(err)
				return
			}
			clients[i] = c
			c.Handle(ctx, protocol.Envelope{Type: protocol.TypeJoin, ID: "j", Body: fmt.Appendf(nil, `{"room":"r%d"}`, i%100)})
		})
	}
	wg.Wait()
	for _, c := range clients[:n/2] {
		if c != nil {
			wg.Go(c.Close)
		}
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for {
		total := 0
		for r := range 100 {
			_, k, err := st.RoomPresence(ctx, fmt.Sprint("r", r), 1)
			if err != nil {
				t.Fatal(err)
			}
			total += k
		}
		gone, _ := st.Connections(ctx, "guest:w0")
		kept, _ := st.Connections(ctx, fmt.Sprintf("guest:w%d", n-1))
		if total == n/2 && gone == 0 && kept == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store has %d users in the rooms, want %d; connections %d and %d, want 0 and 1", total, n/2, gone, kept)
		}
		time.Sleep(50 * time.Millisecond)
	}
	w := p.writes.Load()
	t.Logf("%d connects, %d joins, %d closes: %d writes", n, n, n/2, w)
	if w > n/2 {
		t.Errorf("%d connects and joins and %d closes made %d writes; want them batched, far fewer than one each", n, n/2, w)
	}
}
