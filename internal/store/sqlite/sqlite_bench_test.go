package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/storetest"
)

// BenchmarkAppend measures durable appends (synchronous=FULL) from many
// goroutines, which is where group commit pays off: to a few rooms, and to
// as many rooms as the chat scenario of parley bench uses, where every batch
// touches a different index page per room. Run with
//
//	go test -run '^$' -bench Append -cpu 2 -benchtime 20000x ./internal/store/sqlite
func BenchmarkAppend(b *testing.B) {
	for _, rooms := range []int{8, 500} {
		b.Run(fmt.Sprint("rooms=", rooms), func(b *testing.B) { benchmarkAppend(b, rooms) })
	}
}

func benchmarkAppend(b *testing.B, rooms int) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	names := make([]string, rooms)
	for i := range names {
		names[i] = fmt.Sprint("room", i)
		if _, err := s.CreateRoom(ctx, store.Room{Name: names[i]}); err != nil {
			b.Fatal(err)
		}
	}
	var ids atomic.Int64
	// Many writers per core, as a busy server has many connections; each
	// send carries a client id, as the Go and JS clients' sends do, and the
	// sends go round the rooms.
	b.SetParallelism(500)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := ids.Add(1)
			msg := store.NewMessage{Room: names[id%int64(rooms)], Sender: "bench", Text: "hello, benchmark", ClientID: fmt.Sprint("k", id)}
			if _, _, err := s.Append(ctx, msg); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkAppendOneWriter is the baseline for BenchmarkAppend: one caller
// at a time, so every batch holds one append and costs one fsync.
func BenchmarkAppendOneWriter(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateRoom(ctx, store.Room{Name: "room"}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := s.Append(ctx, store.NewMessage{Room: "room", Sender: "bench", Text: "hello, benchmark"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkAppendAsync measures the writer fed through AppendAsync, as the
// hub feeds it chat messages: 2,000 unanswered at a time (the chat
// scenario's members, each waiting for its ack), round 500 rooms. Run with
//
//	go test -run '^$' -bench AppendAsync -cpu 2 -benchtime 40000x ./internal/store/sqlite
func BenchmarkAppendAsync(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchAppendAsync(b, s, 500, 2000)
}

// BenchmarkAppendPaced measures the time to store a message at the chat
// target's load — 2,000 senders at 5 messages a second each, 10,000 a
// second round 500 rooms — on the store alone, without the rest of the
// server competing for the cores. b.N is the number of messages (2 s of
// load per 20,000). keys=time gives each send a client id led by the time,
// as Parley's clients do; keys=random a random UUID, which spreads the
// client-id index's writes over the whole index. Run with
//
//	go test -run '^$' -bench AppendPaced -cpu 2 -benchtime 50000x ./internal/store/sqlite
func BenchmarkAppendPaced(b *testing.B) {
	for _, keys := range storetest.BenchKeys {
		b.Run("keys="+keys.Name, func(b *testing.B) {
			s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchAppendPaced(b, s, 500, 2000, 10000, keys.Key)
		})
	}
}

// BenchmarkRejoin measures the reads of a member coming back (room,
// membership, missed events), as a reconnect storm makes them:
//
//	go test -run '^$' -bench Rejoin -cpu 2 ./internal/store/sqlite
func BenchmarkRejoin(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchRejoin(b, s, 100)
}

// BenchmarkCreateNotification stores one notification for many
// recipients: one write transaction that every other write of the node
// waits behind. Run with
//
//	go test -run '^$' -bench CreateNotification -benchtime 20x ./internal/store/sqlite
func BenchmarkCreateNotification(b *testing.B) {
	for _, n := range []int{10_000, 50_000} {
		b.Run(fmt.Sprint("recipients=", n), func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			users := make([]string, n)
			for i := range users {
				users[i] = fmt.Sprintf("u_%08d", i)
			}
			b.ResetTimer()
			for i := range b.N {
				if err := s.CreateNotification(ctx, store.Notification{ID: fmt.Sprint("n", i), Title: "t"}, users); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
