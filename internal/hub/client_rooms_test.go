package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// reader reads a recordingSender's frames in the order they were sent
// (recordingSender.next gives only the latest).
type reader struct {
	out  *recordingSender
	read int
}

// connectAs connects a user to h; the connection closes when the test ends.
func connectAs(t *testing.T, h *Hub, id Identity) (*Client, *reader) {
	t.Helper()
	out := &recordingSender{sent: make(chan struct{}, 4096)}
	c, err := h.Connect(context.Background(), "c-"+id.User.ID, id, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, &reader{out: out}
}

// next waits for the frame after the last one read and returns it.
func (r *reader) next(t *testing.T) protocol.Envelope {
	t.Helper()
	select {
	case <-r.out.sent:
	case <-time.After(5 * time.Second):
		t.Fatal("no frame sent within 5s")
	}
	r.out.mu.Lock()
	defer r.out.mu.Unlock()
	r.read++
	return r.out.frames[r.read-1]
}

// expectFrame reads the next frame but the unread summary a user gets on
// connecting, checks its type and id, and decodes its body into v (when v
// is not nil).
func expectFrame(t *testing.T, r *reader, typ, id string, v any) {
	t.Helper()
	got := r.next(t)
	if got.Type == protocol.TypeUnread {
		got = r.next(t)
	}
	if got.Type != typ || got.ID != id {
		t.Fatalf("got %s %q %s, want %s %q", got.Type, got.ID, got.Body, typ, id)
	}
	if v != nil {
		if err := json.Unmarshal(got.Body, v); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOnlyMembersAndAdminsEnterAPrivateRoom: a private room refuses the
// join and the history of a guest and of a user who is not a member, with
// forbidden; its members and an administrator get both.
func TestOnlyMembersAndAdminsEnterAPrivateRoom(t *testing.T) {
	h, st := newTestHub(t)
	ctx := context.Background()
	if _, err := st.CreateRoom(ctx, store.Room{Name: "secret", Private: true, Owner: "u_owner"}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddMember(ctx, "secret", "u_member", store.RoleMember); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		id    Identity
		enter bool
	}{
		{"a guest", Identity{User: protocol.User{ID: "guest:eve", Name: "eve", Guest: true}}, false},
		{"a user who is not a member", Identity{User: protocol.User{ID: "u_stranger", Name: "stranger"}}, false},
		{"a member", Identity{User: protocol.User{ID: "u_member", Name: "member"}}, true},
		{"an administrator", Identity{User: protocol.User{ID: "u_admin", Name: "admin"}, Admin: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, out := connectAs(t, h, tc.id)
			for _, f := range []protocol.Envelope{
				frame("history", "h", protocol.HistoryBody{Room: "secret"}),
				frame("join", "j", protocol.JoinBody{Room: "secret"}),
			} {
				c.Handle(ctx, f)
				if !tc.enter {
					var e protocol.ErrorBody
					expectFrame(t, out, protocol.TypeError, f.ID, &e)
					if e.Code != protocol.CodeForbidden {
						t.Fatalf("%s of a private room: %+v, want forbidden", f.Type, e)
					}
					continue
				}
				want := map[string]string{"history": protocol.TypeHistory, "join": protocol.TypeJoined}[f.Type]
				expectFrame(t, out, want, f.ID, nil)
			}
		})
	}
}

// TestRecoveryReplaysAGapUpToTheWindowAndNoMore: a join with since replays
// every event after since, in order, when the gap is at most the recovery
// window, and says recovered: true; one event more and it replays nothing
// and says recovered: false. A gap of one event is replayed like any other.
func TestRecoveryReplaysAGapUpToTheWindowAndNoMore(t *testing.T) {
	const window, total = 5, 8
	h, st := newTestHub(t)
	h.cfg.RecoveryWindow = window
	ctx := context.Background()
	if _, err := st.CreateRoom(ctx, store.Room{Name: "lobby"}); err != nil {
		t.Fatal(err)
	}
	for i := range total {
		if _, _, err := st.Append(ctx, store.NewMessage{Room: "lobby", Sender: "guest:w", Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name      string
		gap       int64
		recovered bool
	}{
		{"nothing missed", 0, true},
		{"one event", 1, true},
		{"exactly the window", window, true},
		{"one past the window", window + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, out := connectAs(t, h, Identity{User: protocol.User{ID: "guest:r" + fmt.Sprint(tc.gap), Guest: true}})
			since := int64(total) - tc.gap
			c.Handle(ctx, frame("join", "j", protocol.JoinBody{Room: "lobby", Since: &since}))
			var jb protocol.JoinedBody
			expectFrame(t, out, protocol.TypeJoined, "j", &jb)
			if jb.LastSeq != total || jb.Recovered == nil || *jb.Recovered != tc.recovered {
				t.Fatalf("joined since %d: last_seq %d, recovered %v; want %d, %v", since, jb.LastSeq, jb.Recovered, total, tc.recovered)
			}
			want := tc.gap
			if !tc.recovered {
				want = 0
			}
			if int64(jb.Replayed) != want {
				t.Fatalf("replayed %d events, want %d", jb.Replayed, want)
			}
			for seq := since + 1; seq <= since+want; seq++ {
				var m protocol.MessageBody
				got := out.next(t)
				_ = json.Unmarshal(got.Body, &m)
				if got.Type != protocol.TypeMessage || m.Seq != seq {
					t.Fatalf("replay: got %s seq %d, want message %d", got.Type, m.Seq, seq)
				}
			}
		})
	}
}

// TestAConnectionJoinsAtMostMaxRoomsPerConn: the last room within the
// bound is joined; the next is refused with too_many_rooms.
func TestAConnectionJoinsAtMostMaxRoomsPerConn(t *testing.T) {
	h, _ := newTestHub(t)
	h.cfg.MaxRoomsPerConn = 2
	ctx := context.Background()
	c, out := connectAs(t, h, Identity{User: protocol.User{ID: "guest:ann", Name: "ann", Guest: true}})
	for _, room := range []string{"one", "two"} {
		c.Handle(ctx, frame("join", room, protocol.JoinBody{Room: room}))
		expectFrame(t, out, protocol.TypeJoined, room, nil)
	}
	c.Handle(ctx, frame("join", "three", protocol.JoinBody{Room: "three"}))
	var e protocol.ErrorBody
	expectFrame(t, out, protocol.TypeError, "three", &e)
	if e.Code != protocol.CodeTooManyRooms {
		t.Fatalf("a third room: %+v, want too_many_rooms", e)
	}
}

// TestAUserLeavesARoomWithTheirLastConnection: a user in a room through
// two connections stays in its member list when one leaves, and is gone
// from it once the other leaves too.
func TestAUserLeavesARoomWithTheirLastConnection(t *testing.T) {
	h, _ := newTestHub(t)
	ctx := context.Background()
	// dee stays throughout, so that the room stays in memory.
	dee, deeOut := connectAs(t, h, Identity{User: protocol.User{ID: "guest:dee", Name: "dee", Guest: true}})
	dee.Handle(ctx, frame("join", "j", protocol.JoinBody{Room: "lobby"}))
	expectFrame(t, deeOut, protocol.TypeJoined, "j", nil)
	ann := Identity{User: protocol.User{ID: "guest:ann", Name: "ann", Guest: true}}
	var conns []*Client
	for i := range 2 {
		out := &recordingSender{sent: make(chan struct{}, 64)}
		c, err := h.Connect(ctx, fmt.Sprint("ann", i), ann, out)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		c.Handle(ctx, frame("join", "j", protocol.JoinBody{Room: "lobby"}))
		expectFrame(t, &reader{out: out}, protocol.TypeJoined, "j", nil)
		conns = append(conns, c)
	}
	members := func(who string) int {
		t.Helper()
		c, out := connectAs(t, h, Identity{User: protocol.User{ID: "guest:" + who, Name: who, Guest: true}})
		c.Handle(ctx, frame("join", "j", protocol.JoinBody{Room: "lobby"}))
		var jb protocol.JoinedBody
		expectFrame(t, out, protocol.TypeJoined, "j", &jb)
		c.Close()
		return jb.MemberCount
	}
	conns[0].Handle(ctx, frame("leave", "l", protocol.RoomBody{Room: "lobby"}))
	if n := members("bob"); n != 3 {
		t.Fatalf("with one of ann's two connections gone: %d members, want dee, ann and bob", n)
	}
	conns[1].Handle(ctx, frame("leave", "l", protocol.RoomBody{Room: "lobby"}))
	if n := members("cy"); n != 2 {
		t.Fatalf("after ann's last connection left: %d members, want dee and cy", n)
	}
}

// TestAReplayOfExactlyMaxReplayBytesIsSent: missed events whose frames
// add up to exactly MaxReplayBytes are replayed; one byte less allowed and
// the join says recovered: false instead.
func TestAReplayOfExactlyMaxReplayBytesIsSent(t *testing.T) {
	h, st := newTestHub(t)
	ctx := context.Background()
	if _, err := st.CreateRoom(ctx, store.Room{Name: "lobby"}); err != nil {
		t.Fatal(err)
	}
	size := 0
	for i := range 3 {
		ev, _, err := st.Append(ctx, store.NewMessage{Room: "lobby", Sender: "guest:w", Text: fmt.Sprint("message ", i)})
		if err != nil {
			t.Fatal(err)
		}
		size += len(encodeEvent(ev))
	}
	for _, tc := range []struct {
		limit     int
		recovered bool
	}{{size, true}, {size - 1, false}} {
		h.cfg.MaxReplayBytes = tc.limit
		c, out := connectAs(t, h, Identity{User: protocol.User{ID: fmt.Sprint("guest:r", tc.limit), Guest: true}})
		since := int64(0)
		c.Handle(ctx, frame("join", "j", protocol.JoinBody{Room: "lobby", Since: &since}))
		var jb protocol.JoinedBody
		expectFrame(t, out, protocol.TypeJoined, "j", &jb)
		if jb.Recovered == nil || *jb.Recovered != tc.recovered {
			t.Fatalf("a replay of %d bytes with MaxReplayBytes %d: recovered %v, want %v", size, tc.limit, jb.Recovered, tc.recovered)
		}
		c.Close()
	}
}
