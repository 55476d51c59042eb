package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/internal/store"
)

// BenchmarkAppend measures durable appends (synchronous=FULL) from many
// goroutines to a few rooms, which is where group commit pays off. Run with
//
//	go test -run '^$' -bench Append -cpu 2 -benchtime 5000x ./internal/store/sqlite
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const rooms = 8
	for i := range rooms {
		if _, err := s.CreateRoom(ctx, store.Room{Name: fmt.Sprint("room", i)}); err != nil {
			b.Fatal(err)
		}
	}
	var next, ids atomic.Int64
	// Many writers per core, as a busy server has many connections; each
	// send carries a client id, as the Go and JS clients' sends do.
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		room := fmt.Sprint("room", next.Add(1)%rooms)
		for pb.Next() {
			msg := store.NewMessage{Room: room, Sender: "bench", Text: "hello, benchmark", ClientID: fmt.Sprint("k", ids.Add(1))}
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
