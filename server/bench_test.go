package server_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
)

// BenchmarkDurableChat measures durable messages per second through the
// whole server — WebSocket in, store append with group commit, ack out,
// broadcast — and the time from send to ack. Each sender has its own
// connection and room, and keeps one message in flight at a time (it waits
// for the ack), as a chat client does.
//
//	go test -run '^$' -bench DurableChat -benchtime 5s ./server
//	PARLEY_TEST_POSTGRES_URL=… go test -run '^$' -bench DurableChat/postgres ./server
func BenchmarkDurableChat(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchDurableChat(b, nil) })
	b.Run("postgres", func(b *testing.B) {
		dbURL := pgtest.FreshSchema(b) // skips when no server is configured
		benchDurableChat(b, func(c *config.Config) { c.DatabaseURL = dbURL })
	})
}

func benchDurableChat(b *testing.B, mutate func(*config.Config)) {
	ts := testutil.StartServer(b, func(c *config.Config) {
		c.RateMessages = 100000
		c.RateBurst = 100000
		testutil.WithoutUserLimits(c)
		c.MaxConnsPerUser = 1000
		if mutate != nil {
			mutate(c)
		}
	})
	const senders = 64
	conns := make([]*websocket.Conn, senders)
	for i := range conns {
		c, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("%s/ws/bench%d?name=sender%d", ts.WSURL, i%16, i), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
		// welcome, joined (and presence of earlier members)
		for {
			_, data, err := c.ReadMessage()
			if err != nil {
				b.Fatal(err)
			}
			if json.Valid(data) && string(data[:17]) == `{"type":"joined",` {
				break
			}
		}
	}
	var (
		next      atomic.Int64
		mu        sync.Mutex
		latencies []time.Duration
		wg        sync.WaitGroup
	)
	b.ResetTimer()
	start := time.Now()
	for i := range conns {
		wg.Add(1)
		go func(c *websocket.Conn, room int) {
			defer wg.Done()
			var local []time.Duration
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				msg := fmt.Sprintf(`{"type":"chat","id":"a","body":{"room":"bench%d","text":"durable message"}}`, room)
				if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
					b.Error(err)
					return
				}
				for { // skip broadcasts from the room's other senders until the ack
					_, data, err := c.ReadMessage()
					if err != nil {
						b.Error(err)
						return
					}
					if len(data) > 13 && string(data[:13]) == `{"type":"ack"` {
						break
					}
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}(conns[i], i%16)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	if n := len(latencies); n > 0 {
		b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(latencies[n/2].Microseconds())/1000, "p50-ack-ms")
		b.ReportMetric(float64(latencies[n*99/100].Microseconds())/1000, "p99-ack-ms")
	}
}
