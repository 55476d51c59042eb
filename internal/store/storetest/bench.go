package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
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
	names := benchRooms(b, s, rooms)
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

// BenchAppendPaced measures how long s takes to store a message at a steady
// load, as the chat scenario of parley bench offers it: senders senders,
// each sending every senders/rate seconds (the schedule staggered across
// them) and waiting for its answer before the next send (a late one goes at
// once), appends going round rooms rooms with client ids made by key (see
// TimeLedKey and RandomKey), b.N appends in all. It reports the p50, p99 and largest time from send to answer, which
// BenchAppendAsync's saturated queue cannot show, and the rate reached.
// Through AppendAsync where s has it, as the hub uses it, else Append.
func BenchAppendPaced(b *testing.B, s store.Store, rooms, senders int, rate float64, key func(sender, n int) string) {
	b.Helper()
	ctx := context.Background()
	names := benchRooms(b, s, rooms)
	appendOne := func(msg store.NewMessage) error {
		if as, ok := s.(store.AsyncAppender); ok {
			done := make(chan error, 1)
			as.AppendAsync(ctx, msg, func(_ store.Event, _ bool, err error) { done <- err })
			return <-done
		}
		_, _, err := s.Append(ctx, msg)
		return err
	}
	interval := time.Duration(float64(senders) / rate * float64(time.Second))
	lat := make([][]time.Duration, senders)
	errs := make(chan error, senders)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range senders {
		n := b.N / senders
		if i < b.N%senders {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := start.Add(interval * time.Duration(i) / time.Duration(senders))
			for k := range n {
				time.Sleep(time.Until(next))
				sent := time.Now()
				msg := store.NewMessage{Room: names[(i+k*senders)%rooms], Sender: fmt.Sprint("sender", i),
					Text: "hello, benchmark", ClientID: key(i, k)}
				if err := appendOne(msg); err != nil {
					errs <- err
					return
				}
				lat[i] = append(lat[i], time.Since(sent))
				next = next.Add(interval)
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	elapsed := time.Since(start)
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[len(all)*99/100]), "p99-ms")
	b.ReportMetric(ms(all[len(all)-1]), "max-ms")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "msgs/s")
}

// TimeLedKey returns the client id a Parley client would give sender's n-th
// send now: the time in milliseconds, nine base-36 digits, then what makes
// it unique (see client.Client.Send and docs/PROTOCOL.md).
func TimeLedKey(sender, n int) string {
	b := strconv.AppendInt(protocol.AppendClientIDTime(nil, time.Now()), int64(sender), 10)
	return string(strconv.AppendInt(append(b, '-'), int64(n), 10))
}

// RandomKey returns a random client id in the form of a version 4 UUID, as
// a client that ignores the protocol's advice might send.
func RandomKey(int, int) string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + h[16:20] + "-" + h[20:]
}

// BenchKeys are the kinds of client id BenchAppendPaced is run with, by
// name: "time" (TimeLedKey) and "random" (RandomKey).
var BenchKeys = []struct {
	Name string
	Key  func(sender, n int) string
}{{"time", TimeLedKey}, {"random", RandomKey}}

// benchRooms creates n rooms for a benchmark and returns their names.
func benchRooms(b *testing.B, s store.Store, n int) []string {
	b.Helper()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprint("room", i)
		if _, err := s.CreateRoom(context.Background(), store.Room{Name: names[i]}); err != nil {
			b.Fatal(err)
		}
	}
	return names
}

// BenchRejoin measures the reads a reconnecting member costs the store, as
// the hub makes them: the room (Room), the membership (Member) and what
// was missed (Events after a sequence number), from many goroutines at
// once, round rooms rooms of 10 messages each. It reports rejoins per
// second.
func BenchRejoin(b *testing.B, s store.Store, rooms int) {
	b.Helper()
	ctx := context.Background()
	names := benchRooms(b, s, rooms)
	for _, room := range names {
		if err := s.AddMember(ctx, room, "bench", store.RoleMember); err != nil {
			b.Fatal(err)
		}
		for i := range 10 {
			if _, _, err := s.Append(ctx, store.NewMessage{Room: room, Sender: "bench", Text: "hello, benchmark", ClientID: fmt.Sprint("k", i)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			room := names[int(next.Add(1))%rooms]
			if _, err := s.Room(ctx, room); err != nil {
				b.Error(err)
				return
			}
			if _, err := s.Member(ctx, room, "bench"); err != nil {
				b.Error(err)
				return
			}
			evs, err := s.Events(ctx, room, 7, 100)
			if err != nil {
				b.Error(err)
				return
			}
			if len(evs) != 3 {
				b.Errorf("%s: %d events after 7, want 3", room, len(evs))
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rejoins/s")
}
