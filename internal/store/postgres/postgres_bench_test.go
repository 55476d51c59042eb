package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
)

// BenchmarkAppend measures committed appends from many goroutines to a few
// rooms. Appends to one room queue on its row lock; different rooms proceed
// in parallel. Run with
//
//	PARLEY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	go test -run '^$' -bench Append -cpu 2 -benchtime 5000x ./internal/store/postgres
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	s := openAt(b, pgtest.FreshSchema(b))
	const rooms = 8
	for i := range rooms {
		if _, err := s.CreateRoom(ctx, store.Room{Name: fmt.Sprint("room", i)}); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		room := fmt.Sprint("room", next.Add(1)%rooms)
		for pb.Next() {
			if _, _, err := s.Append(ctx, store.NewMessage{Room: room, Sender: "bench", Text: "hello, benchmark"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkAppendAsync measures the batcher as the hub feeds it chat
// messages: 2,000 unanswered at a time, round 500 rooms. Run with
//
//	PARLEY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	go test -run '^$' -bench AppendAsync -cpu 2 -benchtime 40000x ./internal/store/postgres
func BenchmarkAppendAsync(b *testing.B) {
	storetest.BenchAppendAsync(b, openAt(b, pgtest.FreshSchema(b)), 500, 2000)
}

// BenchmarkAppendPaced measures the time to store a message at the chat
// target's load (2,000 senders at 5 messages a second each, round 500
// rooms) on the store alone, with client ids led by the time and random
// ones; see storetest.BenchAppendPaced. Run with
//
//	PARLEY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	go test -run '^$' -bench AppendPaced -cpu 2 -benchtime 50000x ./internal/store/postgres
func BenchmarkAppendPaced(b *testing.B) {
	for _, keys := range storetest.BenchKeys {
		b.Run("keys="+keys.Name, func(b *testing.B) {
			storetest.BenchAppendPaced(b, openAt(b, pgtest.FreshSchema(b)), 500, 2000, 10000, keys.Key)
		})
	}
}

// BenchmarkRejoin measures the reads of a member coming back (room,
// membership, missed events), as a reconnect storm makes them.
func BenchmarkRejoin(b *testing.B) {
	storetest.BenchRejoin(b, openAt(b, pgtest.FreshSchema(b)), 100)
}
