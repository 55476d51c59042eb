package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

type msgBody struct {
	Room string `json:"room"`
	ID   string `json:"id"`
	Seq  int64  `json:"seq"`
	TS   string `json:"ts"`
	From struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Guest bool   `json:"guest"`
	} `json:"from"`
	To   string `json:"to"`
	Text string `json:"text"`
}

type ackBody struct {
	Room      string `json:"room"`
	MessageID string `json:"message_id"`
	Seq       int64  `json:"seq"`
	Duplicate bool   `json:"duplicate"`
}

type joinedBody struct {
	Room    string `json:"room"`
	LastSeq int64  `json:"last_seq"`
	Members []struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Guest bool   `json:"guest"`
	} `json:"members"`
	Recovered *bool `json:"recovered"`
	Replayed  int   `json:"replayed"`
}

type presenceBody struct {
	Room  string `json:"room"`
	Event string `json:"event"`
	User  struct {
		ID string `json:"id"`
	} `json:"user"`
}

type errorBody struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	RetryAfterMS int64  `json:"retry_after_ms"`
}

// connect dials as a guest, reads the welcome and joins room (when given).
func connect(t *testing.T, ts *testutil.TestServer, name, room string) *testutil.Client {
	t.Helper()
	c := ts.Dial(t, "/ws?name="+name)
	c.Welcome()
	if room != "" {
		join(t, c, room)
	}
	return c
}

func join(t *testing.T, c *testutil.Client, room string) joinedBody {
	t.Helper()
	c.Send("join", "j-"+room, map[string]any{"room": room})
	f := c.Expect("joined", "presence")
	if f.ID != "j-"+room {
		t.Fatalf("joined reply id = %q, want %q", f.ID, "j-"+room)
	}
	var jb joinedBody
	f.Decode(t, &jb)
	return jb
}

func TestTwoClientsChatInARoom(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	alice := connect(t, ts, "alice", "lobby")
	bob := connect(t, ts, "bob", "lobby")
	alice.Expect("presence") // bob joined

	alice.Send("chat", "c1", map[string]any{"room": "lobby", "text": "hello bob"})
	ack := alice.Expect("ack")
	if ack.ID != "c1" {
		t.Fatalf("ack id = %q, want c1", ack.ID)
	}
	var a ackBody
	ack.Decode(t, &a)
	if a.Seq != 1 || a.MessageID == "" || a.Room != "lobby" {
		t.Fatalf("ack = %+v, want seq 1 in lobby with an id", a)
	}

	var m msgBody
	bob.Expect("message").Decode(t, &m)
	if m.Text != "hello bob" || m.Seq != 1 || m.ID != a.MessageID || m.From.ID != "guest:alice" || !m.From.Guest || m.TS == "" {
		t.Fatalf("bob got %+v", m)
	}
	// The sending connection gets the ack, not the broadcast.
	alice.ExpectNone(100 * time.Millisecond)

	bob.Send("chat", "", map[string]any{"room": "LOBBY", "text": "hi alice"})
	bob.Expect("ack")
	alice.Expect("message").Decode(t, &m)
	if m.Seq != 2 || m.From.Name != "bob" {
		t.Fatalf("alice got %+v, want seq 2 from bob", m)
	}
}

func TestJoinReplyListsMembersAndNamesAreNormalised(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	connect(t, ts, "alice", "Café")
	bob := connect(t, ts, "bob", "")
	// Upper case and the full-width form name the same room.
	jb := join(t, bob, "ＣＡＦÉ")
	if jb.Room != "café" {
		t.Fatalf("room key = %q, want café", jb.Room)
	}
	ids := []string{}
	for _, m := range jb.Members {
		ids = append(ids, m.ID)
	}
	if fmt.Sprint(ids) != "[guest:alice guest:bob]" {
		t.Fatalf("members = %v, want alice and bob", ids)
	}
}

func TestPresenceWithTwoConnectionsOfOneUser(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	bob := connect(t, ts, "bob", "lobby")
	alice1 := connect(t, ts, "alice", "lobby")
	var p presenceBody
	bob.Expect("presence").Decode(t, &p)
	if p.Event != "join" || p.User.ID != "guest:alice" {
		t.Fatalf("presence = %+v, want alice join", p)
	}
	alice2 := connect(t, ts, "alice", "lobby")
	// The second connection of a user already present announces nothing.
	bob.ExpectNone(150 * time.Millisecond)

	alice1.Close()
	bob.ExpectNone(150 * time.Millisecond)
	alice2.Close()
	bob.Expect("presence").Decode(t, &p)
	if p.Event != "leave" || p.User.ID != "guest:alice" {
		t.Fatalf("presence = %+v, want alice leave", p)
	}
}

func TestPrivateMessagesReachExactlyTheRightConnections(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	alice1 := connect(t, ts, "alice", "")
	alice2 := connect(t, ts, "alice", "")
	bob1 := connect(t, ts, "bob", "")
	bob2 := connect(t, ts, "bob", "")
	carol := connect(t, ts, "carol", "")

	alice1.Send("private", "p1", map[string]any{"to": "guest:bob", "text": "psst"})
	var a ackBody
	ack := alice1.Expect("ack")
	ack.Decode(t, &a)
	if ack.ID != "p1" || a.Seq != 1 {
		t.Fatalf("ack %s", ack.Raw)
	}
	for name, c := range map[string]*testutil.Client{"alice2": alice2, "bob1": bob1, "bob2": bob2} {
		var m msgBody
		c.Expect("private").Decode(t, &m)
		if m.Text != "psst" || m.From.ID != "guest:alice" || m.To != "guest:bob" || m.ID != a.MessageID {
			t.Fatalf("%s got %+v", name, m)
		}
	}
	alice1.ExpectNone(100 * time.Millisecond)
	carol.ExpectNone(100 * time.Millisecond)

	alice1.Send("private", "p2", map[string]any{"to": "guest:alice", "text": "me"})
	var e errorBody
	alice1.Expect("error").Decode(t, &e)
	if e.Code != "invalid" {
		t.Fatalf("private to self: %+v", e)
	}
}

func TestTypingIsRelayedAndExpires(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) { c.TypingTimeout = 300 * time.Millisecond })
	alice := connect(t, ts, "alice", "lobby")
	bob := connect(t, ts, "bob", "lobby")
	alice.Expect("presence")

	type typing struct {
		Room  string `json:"room"`
		State string `json:"state"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	alice.Send("typing", "", map[string]any{"room": "lobby", "state": "start"})
	var ty typing
	bob.Expect("typing").Decode(t, &ty)
	if ty.State != "start" || ty.User.ID != "guest:alice" {
		t.Fatalf("typing = %+v", ty)
	}
	start := time.Now()
	// Alice goes quiet; the server ends the indicator on its own.
	bob.Expect("typing").Decode(t, &ty)
	if ty.State != "stop" {
		t.Fatalf("typing = %+v, want stop", ty)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Fatalf("typing expired after %v, want about 300ms", waited)
	}
	// Typing is never stored: a later joiner's history has nothing.
	alice.Send("history", "h", map[string]any{"room": "lobby"})
	var h struct {
		Messages []msgBody `json:"messages"`
	}
	alice.Expect("history", "typing").Decode(t, &h)
	if len(h.Messages) != 0 {
		t.Fatalf("history has %d messages after typing only", len(h.Messages))
	}
}

func TestSeedRoomPathJoinsOnConnect(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	c := ts.Dial(t, "/ws/General?name=alice")
	c.Welcome()
	var jb joinedBody
	c.Expect("joined").Decode(t, &jb)
	if jb.Room != "general" {
		t.Fatalf("joined %q, want general", jb.Room)
	}
	c.Send("chat", "c", map[string]any{"room": "general", "text": "hi"})
	c.Expect("ack")

	plain := ts.Dial(t, "/ws?name=bob")
	plain.Welcome()
	plain.ExpectNone(100*time.Millisecond, "unread")
}

// TestWriteDelayKeepsOrderAndDeliversEverything runs a burst through a
// server that gathers busy connections' frames into fewer writes.
func TestWriteDelayKeepsOrderAndDeliversEverything(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.WriteDelay = 20 * time.Millisecond
		c.RateBurst = 1000
		c.RateMessages = 1000
	})
	alice := connect(t, ts, "alice", "lobby")
	members := []*testutil.Client{connect(t, ts, "bob", "lobby"), connect(t, ts, "carol", "lobby")}
	const n = 300
	for i := 0; i < n; i++ {
		alice.Send("chat", "", map[string]any{"room": "lobby", "text": fmt.Sprint(i)})
	}
	for _, m := range members {
		check := &seqChecker{t: t}
		for check.last < n {
			var b msgBody
			m.Expect("message", "presence").Decode(t, &b)
			check.see(b.Seq)
		}
	}
	for i := 0; i < n; i++ {
		alice.Expect("ack", "presence")
	}
}
