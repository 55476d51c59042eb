package hub

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/broker/memory"
	"github.com/parley-chat/parley/internal/protocol"
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
