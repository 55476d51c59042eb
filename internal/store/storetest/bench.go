package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/parley-chat/parley/internal/store"
)

// BenchAppendAsync measures s's AppendAsync as the hub uses it under load:
// appends go round rooms rooms, each with a client id, queued from one
// goroutine with up to inflight of them unanswered (a server's connections
// each waiting for an ack). It reports messages stored per second.
func BenchAppendAsync(b *testing.B, s store.Store, rooms, inflight int) {
	b.Helper()
	as, ok := s.(store.AsyncAppender)
	if !ok {
		b.Skipf("%T does not implement store.AsyncAppender", s)
	}
	ctx := context.Background()
	names := make([]string, rooms)
	for i := range names {
		names[i] = fmt.Sprint("room", i)
		if _, err := s.CreateRoom(ctx, store.Room{Name: names[i]}); err != nil {
			b.Fatal(err)
		}
	}
	window := make(chan struct{}, inflight)
	failed := make(chan error, 1)
	b.ResetTimer()
	for i := range b.N {
		window <- struct{}{}
		msg := store.NewMessage{Room: names[i%rooms], Sender: "bench", Text: "hello, benchmark", ClientID: fmt.Sprint("k", i)}
		as.AppendAsync(ctx, msg, func(_ store.Event, _ bool, err error) {
			if err != nil {
				select {
				case failed <- err:
				default:
				}
			}
			<-window
		})
	}
	for range inflight {
		window <- struct{}{}
	}
	b.StopTimer()
	select {
	case err := <-failed:
		b.Fatal(err)
	default:
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
