package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/testutil"
)

// BenchmarkQuietUserDuringFlood measures what a flood costs the other users
// of a room under the default limits: the send-to-ack time of quiet users
// (10 guests taking turns, each well within its own budget: one message
// each 200 ms) alone, and while one guest floods the same room from 16
// connections, each sending 200 frames a second (3,200 in all, 320 times
// the user's budget) whatever the answers, and reconnecting whenever it is
// closed for ignoring the retry hints. The flood is bounded so that the
// load generator, which shares this machine's cores, does not take the
// CPU from the server it measures: an unbounded writer in this process
// measured the attacker's own system calls (80 % of the CPU), not the
// server. Every client is on 127.0.0.1, as is the flooder: the
// per-address limit is on, and the quiet users' 50 messages a second stay
// below it.
//
//	go test -run '^$' -bench QuietUserDuringFlood -benchtime 400x ./server
//
// It reports the quiet users' p50 and p99 in ms and, with the flood, how
// many flood frames a second the server refused and stored.
func BenchmarkQuietUserDuringFlood(b *testing.B) {
	for _, flood := range []bool{false, true} {
		name := "alone"
		if flood {
			name = "flood"
		}
		b.Run(name, func(b *testing.B) { benchQuietUser(b, flood) })
	}
}

func benchQuietUser(b *testing.B, flood bool) {
	ts := testutil.StartServer(b, nil)
	quiet := make([]*testutil.Client, 10)
	for i := range quiet {
		quiet[i] = ts.Dial(b, "/ws/r?name=quiet"+strconv.Itoa(i))
		quiet[i].Welcome()
		quiet[i].Expect("joined", "presence", "presence_diff")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var acked, limited atomic.Int64
	if flood {
		first := ts.Dial(b, "/ws/r?name=flooder")
		token := first.Welcome().GuestToken
		for range 16 {
			wg.Add(1)
			go func() { defer wg.Done(); floodLoop(ctx, ts, token, &acked, &limited) }()
		}
		time.Sleep(500 * time.Millisecond) // the flood is under way
	}
	floodStart := time.Now()
	lat := make([]time.Duration, 0, b.N)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		q := quiet[i%len(quiet)]
		id := "q" + strconv.Itoa(i)
		start := time.Now()
		q.Send("chat", id, map[string]any{"room": "r", "text": "quiet"})
		for {
			f := q.Next()
			if f.ID == id {
				if f.Type != "ack" {
					b.Fatalf("quiet user refused: %s", f.Raw)
				}
				break
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	secs := time.Since(floodStart).Seconds()
	cancel()
	wg.Wait()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
	if flood {
		b.ReportMetric(float64(limited.Load())/secs, "flood-refused/s")
		b.ReportMetric(float64(acked.Load())/secs, "flood-stored/s")
	}
}

// floodLoop sends chat frames to room r as one connection of the guest
// behind token, 200 a second, ignoring every answer;
// when the server closes the connection it opens another, until ctx ends.
func floodLoop(ctx context.Context, ts *testutil.TestServer, token string, acked, limited *atomic.Int64) {
	frame := []byte(`{"type":"chat","id":"f","body":{"room":"r","text":"flood"}}`)
	for ctx.Err() == nil {
		d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
		c, _, err := d.DialContext(ctx, ts.WSURL+"/ws/r", http.Header{"Authorization": {"Bearer " + token}})
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				_, data, err := c.ReadMessage()
				if err != nil {
					return
				}
				var f struct {
					Type string
					ID   string
				}
				if json.Unmarshal(data, &f) == nil && f.ID == "f" {
					if f.Type == "ack" {
						acked.Add(1)
					} else {
						limited.Add(1)
					}
				}
			}
		}()
		tick := time.NewTicker(5 * time.Millisecond)
		for c.WriteMessage(websocket.TextMessage, frame) == nil {
			select {
			case <-ctx.Done():
			case <-tick.C:
				continue
			}
			break
		}
		tick.Stop()
		c.Close()
		<-done
	}
}
