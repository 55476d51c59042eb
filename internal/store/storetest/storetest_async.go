package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// asyncResult is what one AppendAsync's done was called with.
type asyncResult struct {
	i   int
	ev  store.Event
	dup bool
	err error
}

// asyncAppender returns s as a store.AsyncAppender, skipping the test for
// a store that is not one (the hub then waits on Append instead).
func asyncAppender(t *testing.T, s store.Store) store.AsyncAppender {
	t.Helper()
	as, ok := s.(store.AsyncAppender)
	if !ok {
		t.Skipf("%T does not implement store.AsyncAppender", s)
	}
	return as
}

var asyncTests = []namedTest{
	{"OnceEachInOrder", func(t *testing.T, s store.Store) {
		as := asyncAppender(t, s)
		c := ctx(t)
		mkRoom(t, s, "a", "ann")
		mkRoom(t, s, "b", "ann")
		first := send(t, s, "a", "ann", "before") // seq 1 in a
		earlier, _, err := s.Append(c, store.NewMessage{Room: "b", Sender: "ann", ClientID: "k-before", Text: "stored first"})
		noErr(t, err, "Append with a client id") // seq 1 in b

		// One goroutine queues appends round two rooms, a retry of a send
		// with a client id and one to a room that does not exist, as a
		// connection's reader would; every done must come exactly once,
		// one at a time, in the order queued.
		msgs := make([]store.NewMessage, 0, 300)
		for i := range 300 {
			m := store.NewMessage{Room: []string{"a", "b"}[i%2], Sender: "ann", SenderName: "Ann", Text: fmt.Sprint(i)}
			switch i {
			case 10:
				m.ClientID = "k10"
			case 150:
				m = store.NewMessage{Room: "a", Sender: "ann", SenderName: "Ann", ClientID: "k10", Text: "retry"}
			case 200:
				m.Room = "nowhere"
			case 77:
				m = store.NewMessage{Room: "b", Sender: "ann", SenderName: "Ann", ClientID: "k-before", Text: "retry of an earlier send"}
			}
			msgs = append(msgs, m)
		}
		var (
			mu      sync.Mutex
			got     []asyncResult
			running atomic.Int32
			overlap atomic.Bool
			all     = make(chan struct{})
		)
		for i, m := range msgs {
			as.AppendAsync(c, m, func(ev store.Event, dup bool, err error) {
				if running.Add(1) > 1 {
					overlap.Store(true)
				}
				defer running.Add(-1)
				mu.Lock()
				got = append(got, asyncResult{i: i, ev: ev, dup: dup, err: err})
				n := len(got)
				mu.Unlock()
				if n == len(msgs) {
					close(all)
				}
			})
		}
		select {
		case <-all:
		case <-time.After(20 * time.Second):
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("%d of %d appends reported within 20s", len(got), len(msgs))
		}
		if overlap.Load() {
			t.Error("two done calls ran at the same time")
		}
		mu.Lock()
		defer mu.Unlock()

		next := map[string]int64{"a": first.Seq + 1, "b": earlier.Seq + 1}
		var k10 store.Event
		for pos, r := range got {
			if r.i != pos {
				t.Fatalf("done call %d was for append %d; want queue order", pos, r.i)
			}
			m := msgs[r.i]
			switch r.i {
			case 200:
				wantErr(t, r.err, store.ErrNotFound, "append to a missing room")
				continue
			case 77:
				noErr(t, r.err, "retry of an earlier send")
				if !r.dup || !reflect.DeepEqual(r.ev, earlier) {
					t.Fatalf("retry of k-before = %+v dup %v; want the stored event %+v, dup", r.ev, r.dup, earlier)
				}
				continue
			case 150:
				noErr(t, r.err, "retried append")
				if !r.dup || r.ev.Message.ID != k10.Message.ID || r.ev.Seq != k10.Seq {
					t.Fatalf("retry of k10 = %+v dup %v; want the first send's event %+v, dup", r.ev, r.dup, k10)
				}
				continue
			}
			noErr(t, r.err, fmt.Sprint("append ", r.i))
			if r.dup || r.ev.Room != m.Room || r.ev.Seq != next[m.Room] || r.ev.Message.Text != m.Text || r.ev.Kind != store.EventMessage {
				t.Fatalf("append %d = %+v dup %v; want %q at seq %d of %s", r.i, r.ev, r.dup, m.Text, next[m.Room], m.Room)
			}
			next[m.Room]++
			if r.i == 10 {
				k10 = r.ev
			}
		}
		// What done reported is what was stored.
		for _, room := range []string{"a", "b"} {
			log := allEvents(t, s, room)
			equal(t, int64(len(log)), next[room]-1, "events in "+room)
			byseq := make(map[int64]store.Event, len(log))
			for _, ev := range log {
				byseq[ev.Seq] = ev
			}
			for _, r := range got {
				if r.err == nil && !r.dup && r.ev.Room == room {
					equal(t, byseq[r.ev.Seq], r.ev, fmt.Sprintf("stored event %d of %s", r.ev.Seq, room))
				}
			}
		}
		// Close returns once every callback has run: a second call of
		// some done would have come by then.
		mu.Unlock()
		noErr(t, s.Close(), "Close")
		mu.Lock()
		equal(t, len(got), len(msgs), "done calls")
	}},
	{"AfterClose", func(t *testing.T, s store.Store) {
		as := asyncAppender(t, s)
		mkRoom(t, s, "a", "ann")
		noErr(t, s.Close(), "Close")
		var err error
		called := 0
		as.AppendAsync(ctx(t), store.NewMessage{Room: "a", Sender: "ann", Text: "late"}, func(_ store.Event, _ bool, e error) {
			called++
			err = e
		})
		equal(t, called, 1, "done calls before AppendAsync returned")
		if !errors.Is(err, store.ErrClosed) {
			t.Fatalf("append after Close: err = %v, want store.ErrClosed", err)
		}
	}},
}
