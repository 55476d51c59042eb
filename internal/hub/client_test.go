package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/broker/memory"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// recordingSender keeps the frames a connection was sent and signals each.
type recordingSender struct {
	mu     sync.Mutex
	frames []protocol.Envelope
	sent   chan struct{} // one token per frame, when made with a buffer
}

// Reply records like Send: the hub test sees one stream of frames.
func (s *recordingSender) Reply(frame []byte) bool { return s.Send(frame) }

func (s *recordingSender) Send(frame []byte) bool {
	var env protocol.Envelope
	_ = json.Unmarshal(frame, &env)
	s.mu.Lock()
	s.frames = append(s.frames, env)
	s.mu.Unlock()
	select {
	case s.sent <- struct{}{}:
	default:
	}
	return true
}

// next waits for the next frame sent and returns it.
func (s *recordingSender) next(t *testing.T) protocol.Envelope {
	t.Helper()
	select {
	case <-s.sent:
		return s.last()
	case <-time.After(5 * time.Second):
		t.Fatal("no frame sent within 5s")
		return protocol.Envelope{}
	}
}

func (s *recordingSender) Close(int, string) {}

func (s *recordingSender) last() protocol.Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frames[len(s.frames)-1]
}

// newTestHub is a hub over a real SQLite store in a temporary directory.
func newTestHub(t *testing.T) (*Hub, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := memory.New()
	h := New(Config{}, st, b, nil)
	t.Cleanup(func() { h.Close(); b.Close() })
	return h, st
}

func frame(typ, id string, body any) protocol.Envelope {
	b, _ := json.Marshal(body)
	return protocol.Envelope{Type: typ, ID: id, Body: b}
}

// annInLobby connects guest ann and joins her to lobby; the joined reply
// is the first frame she was sent. The connection closes when the test ends.
func annInLobby(t *testing.T, h *Hub) (*Client, *recordingSender) {
	t.Helper()
	out := &recordingSender{sent: make(chan struct{}, 64)}
	ctx := context.Background()
	c, err := h.Connect(ctx, "c1", Identity{User: protocol.User{ID: "guest:ann", Name: "ann", Guest: true}}, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	c.Handle(ctx, frame("join", "j", protocol.JoinBody{Room: "lobby"}))
	if got := out.next(t); got.Type != protocol.TypeJoined {
		t.Fatalf("join answered %+v", got)
	}
	return c, out
}

// TestStoreFailureReachesTheSender: when the store cannot save a message the
// sender gets an error frame for it, never a silent drop or a false ack.
func TestStoreFailureReachesTheSender(t *testing.T) {
	h, st := newTestHub(t)
	ctx := context.Background()
	c, out := annInLobby(t, h)
	st.Close() // the database goes away
	c.Handle(ctx, frame("chat", "c", protocol.ChatBody{Room: "lobby", Text: "lost?"}))
	// The write runs off the reader; wait for its outcome.
	got := out.next(t)
	var e protocol.ErrorBody
	_ = json.Unmarshal(got.Body, &e)
	if got.Type != protocol.TypeError || got.ID != "c" || e.Code != protocol.CodeUnavailable {
		t.Fatalf("after a store failure the sender got %s %s %s, want an unavailable error for c", got.Type, got.ID, got.Body)
	}
}

// TestEmptyRoomsAreReleased: a room lives in memory only while a local
// connection is in it.
func TestEmptyRoomsAreReleased(t *testing.T) {
	h, _ := newTestHub(t)
	ctx := context.Background()
	var clients []*Client
	for i, name := range []string{"ann", "bob"} {
		c, err := h.Connect(ctx, "c"+name, Identity{User: protocol.User{ID: "guest:" + name, Name: name, Guest: true}}, &recordingSender{})
		if err != nil {
			t.Fatal(err)
		}
		c.Handle(ctx, frame("join", "j", protocol.JoinBody{Room: "lobby"}))
		c.Handle(ctx, frame("join", "j", protocol.JoinBody{Room: "room" + string(rune('a'+i))}))
		clients = append(clients, c)
	}
	if st := h.Stats(); st.Rooms != 3 || st.Users != 2 {
		t.Fatalf("stats %+v, want 3 rooms and 2 users", st)
	}
	clients[0].Handle(ctx, frame("leave", "l", protocol.RoomBody{Room: "rooma"}))
	if st := h.Stats(); st.Rooms != 2 {
		t.Fatalf("stats %+v after a leave, want 2 rooms", st)
	}
	for _, c := range clients {
		c.Close()
	}
	if st := h.Stats(); st.Rooms != 0 || st.Users != 0 {
		t.Fatalf("stats %+v after everyone left, want nothing", st)
	}
}

// TestRepliesKeepTheSendersOrder: a connection's acks come in the order it
// sent, also when chat messages (whose outcome the store reports from its
// completer) follow private messages (which wait on a goroutine of their
// own for the conversation first) with several of each in flight.
func TestRepliesKeepTheSendersOrder(t *testing.T) {
	h, _ := newTestHub(t)
	ctx := context.Background()
	c, out := annInLobby(t, h)
	for i := range 3 { // the recipients: guests, who must be connected
		bob, err := h.Connect(ctx, fmt.Sprint("cbob", i), Identity{User: protocol.User{ID: fmt.Sprint("guest:bob", i), Guest: true}}, &recordingSender{})
		if err != nil {
			t.Fatal(err)
		}
		defer bob.Close()
	}
	var want []string
	for i := range 40 {
		id := fmt.Sprint(i)
		if i%5 == 1 || i%5 == 2 {
			c.Handle(ctx, frame("private", id, protocol.PrivateBody{To: fmt.Sprint("guest:bob", i%3), Text: id}))
		} else {
			c.Handle(ctx, frame("chat", id, protocol.ChatBody{Room: "lobby", Text: id}))
		}
		want = append(want, id)
	}
	for range want {
		out.next(t)
	}
	out.mu.Lock()
	frames := out.frames[1:] // after the joined reply
	out.mu.Unlock()
	var got []string
	for _, f := range frames {
		if f.Type != protocol.TypeAck {
			t.Fatalf("got %s %s %s, want only acks", f.Type, f.ID, f.Body)
		}
		got = append(got, f.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("acks in order %v, want %v", got, want)
	}
}
