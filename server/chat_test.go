package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
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
	MemberCount int   `json:"member_count"`
	Recovered   *bool `json:"recovered"`
	Replayed    int   `json:"replayed"`
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

// connect dials as a new guest, reads the welcome and joins room (when
// given). The guest's id is c.ID().
func connect(t *testing.T, ts *testutil.TestServer, name, room string) *testutil.Client {
	t.Helper()
	c := ts.Dial(t, "/ws?name="+name)
	c.Welcome()
	if room != "" {
		join(t, c, room)
	}
	return c
}

// again opens another connection of the guest first is, with its guest
// token, and joins room (when given).
func again(t *testing.T, ts *testutil.TestServer, first *testutil.Client, room string) *testutil.Client {
	t.Helper()
	c := ts.DialAgain(t, "/ws", first)
	if c.ID() != first.ID() {
		t.Fatalf("the guest token made %q, want the same guest %q", c.ID(), first.ID())
	}
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
	if m.Text != "hello bob" || m.Seq != 1 || m.ID != a.MessageID || m.From.ID != alice.ID() || !m.From.Guest || m.TS == "" {
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
	alice := connect(t, ts, "alice", "Café")
	bob := connect(t, ts, "bob", "")
	// Upper case and the full-width form name the same room.
	jb := join(t, bob, "ＣＡＦÉ")
	if jb.Room != "café" {
		t.Fatalf("room key = %q, want café", jb.Room)
	}
	ids := map[string]bool{}
	for _, m := range jb.Members {
		ids[m.ID] = true
	}
	if len(jb.Members) != 2 || !ids[alice.ID()] || !ids[bob.ID()] {
		t.Fatalf("members = %+v, want alice and bob", jb.Members)
	}
}

func TestPresenceWithTwoConnectionsOfOneUser(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	bob := connect(t, ts, "bob", "lobby")
	alice1 := connect(t, ts, "alice", "lobby")
	var p presenceBody
	bob.Expect("presence").Decode(t, &p)
	if p.Event != "join" || p.User.ID != alice1.ID() {
		t.Fatalf("presence = %+v, want alice join", p)
	}
	alice2 := again(t, ts, alice1, "lobby")
	// The second connection of a user already present announces nothing.
	bob.ExpectNone(150 * time.Millisecond)

	alice1.Close()
	bob.ExpectNone(150 * time.Millisecond)
	alice2.Close()
	bob.Expect("presence").Decode(t, &p)
	if p.Event != "leave" || p.User.ID != alice1.ID() {
		t.Fatalf("presence = %+v, want alice leave", p)
	}
}

func TestPrivateMessagesReachExactlyTheRightConnections(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	alice1 := connect(t, ts, "alice", "")
	alice2 := again(t, ts, alice1, "")
	bob1 := connect(t, ts, "bob", "")
	bob2 := again(t, ts, bob1, "")
	carol := connect(t, ts, "carol", "")

	alice1.Send("private", "p1", map[string]any{"to": bob1.ID(), "text": "psst"})
	var a ackBody
	ack := alice1.Expect("ack")
	ack.Decode(t, &a)
	if ack.ID != "p1" || a.Seq != 1 {
		t.Fatalf("ack %s", ack.Raw)
	}
	for name, c := range map[string]*testutil.Client{"alice2": alice2, "bob1": bob1, "bob2": bob2} {
		var m msgBody
		c.Expect("private").Decode(t, &m)
		if m.Text != "psst" || m.From.ID != alice1.ID() || m.To != bob1.ID() || m.ID != a.MessageID {
			t.Fatalf("%s got %+v", name, m)
		}
	}
	alice1.ExpectNone(100 * time.Millisecond)
	carol.ExpectNone(100 * time.Millisecond)

	alice1.Send("private", "p2", map[string]any{"to": alice1.ID(), "text": "me"})
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
	if ty.State != "start" || ty.User.ID != alice.ID() {
		t.Fatalf("typing = %+v", ty)
	}
	start := time.Now()
	// Alice goes quiet; the server ends the indicator on its own.
	bob.Expect("typing").Decode(t, &ty)
	if ty.State != "stop" {
		t.Fatalf("typing = %+v, want stop", ty)
	}
	// Expect waits boundedly for the stop; what matters here is that it
	// was the expiry, not something sooner. (A wall-clock upper bound
	// would fail on a loaded machine, not on a broken server.)
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Fatalf("typing stopped after %v, before the 300ms timeout", waited)
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
		testutil.WithoutUserLimits(c)
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

// TestGuestsWithOneNameAreDifferentPeople: a name is all a guest gives, so
// it must not be an identity anyone can take. Two guests called bob are two
// users: a private message to the first never reaches the second, who
// cannot read that conversation either, and a later bob, after the first
// has gone, is someone else again.
func TestGuestsWithOneNameAreDifferentPeople(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	alice := connect(t, ts, "alice", "")
	bob := connect(t, ts, "bob", "")
	eve := connect(t, ts, "bob", "")
	if eve.ID() == bob.ID() || eve.Welcomed.User.Name != "bob" {
		t.Fatalf("two guests called bob: %q and %q (%+v)", bob.ID(), eve.ID(), eve.Welcomed.User)
	}

	alice.Send("private", "p", map[string]any{"to": bob.ID(), "text": "for bob only"})
	var ack ackBody
	alice.Expect("ack").Decode(t, &ack)
	var m msgBody
	bob.Expect("private").Decode(t, &m)
	if m.Text != "for bob only" {
		t.Fatalf("bob got %+v", m)
	}
	eve.Send("history", "h", map[string]any{"room": ack.Room})
	var e errorBody
	eve.Expect("error").Decode(t, &e)
	if e.Code != "forbidden" {
		t.Fatalf("the other bob reading the conversation: %+v, want forbidden", e)
	}
	eve.Send("ping", "p", nil)
	eve.Expect("pong") // and no private frame before it

	bob.Close()
	later := connect(t, ts, "bob", "")
	if later.ID() == bob.ID() {
		t.Fatalf("a new guest called bob got the departed bob's id %q", bob.ID())
	}
	later.Send("history", "h", map[string]any{"room": ack.Room})
	later.Expect("error").Decode(t, &e)
	if e.Code != "forbidden" {
		t.Fatalf("a later bob reading the conversation: %+v, want forbidden", e)
	}
}

// TestBadGuestNameIsRefusedInWords: the 401 before the upgrade says what is
// wrong with the name the way a person would, without Go's error chain.
func TestBadGuestNameIsRefusedInWords(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	_, resp, err := ts.DialWith(t, "/ws?name=rl", testutil.DialOptions{})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("err %v, resp %v; want 401", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `the guest name \"rl\" is 2 characters long; it must be 3 to 32`
	if !strings.Contains(string(body), want) || strings.Contains(string(body), "auth:") ||
		strings.Contains(string(body), "invalid username") {
		t.Fatalf("refusal %s, want it to say %s and nothing of Go's", body, want)
	}
}
