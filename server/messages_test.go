package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

type updateBody struct {
	Room    string  `json:"room"`
	Seq     int64   `json:"seq"`
	Kind    string  `json:"kind"`
	Actor   string  `json:"actor"`
	Emoji   string  `json:"emoji"`
	Removed bool    `json:"removed"`
	Message msgFull `json:"message"`
}

type msgFull struct {
	msgBody
	EditedAt  string `json:"edited_at"`
	Deleted   bool   `json:"deleted"`
	Reactions []struct {
		Emoji string   `json:"emoji"`
		Users []string `json:"users"`
	} `json:"reactions"`
}

// TestEditDeleteReactAreBroadcastStoredAndRecovered walks one message
// through its life and checks what members see live, what history shows and
// what a re-joining client recovers.
func TestEditDeleteReactAreBroadcastStoredAndRecovered(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) { c.RateBurst = 100 })
	a := connect(t, ts, "alice", "lobby")
	b := connect(t, ts, "bob", "lobby")
	a.Expect("presence")

	var ack ackBody
	a.Send("chat", "c", map[string]any{"room": "lobby", "text": "helo"})
	a.Expect("ack").Decode(t, &ack)
	b.Expect("message")

	var u updateBody
	a.Send("edit", "e", map[string]any{"room": "lobby", "message_id": ack.MessageID, "text": "hello"})
	a.Expect("ack")
	b.Expect("update").Decode(t, &u)
	if u.Kind != "edit" || u.Seq != 2 || u.Message.Text != "hello" || u.Message.Seq != 1 || u.Message.EditedAt == "" {
		t.Fatalf("edit update %+v", u)
	}
	a.Expect("update") // the requesting connection sees the new state too

	b.Send("edit", "e2", map[string]any{"room": "lobby", "message_id": ack.MessageID, "text": "mine now"})
	var e errorBody
	b.Expect("error").Decode(t, &e)
	if e.Code != "forbidden" {
		t.Fatalf("editing someone else's message: %+v", e)
	}

	b.Send("react", "r", map[string]any{"room": "lobby", "message_id": ack.MessageID, "emoji": "👍"})
	b.Expect("ack", "update")
	a.Expect("update").Decode(t, &u)
	if u.Kind != "reaction" || u.Seq != 3 || u.Emoji != "👍" || len(u.Message.Reactions) != 1 || u.Message.Reactions[0].Users[0] != b.ID() {
		t.Fatalf("reaction update %+v", u)
	}

	a.Send("delete", "d", map[string]any{"room": "lobby", "message_id": ack.MessageID})
	a.Expect("ack", "update")
	b.Expect("update", "ack").Decode(t, &u)
	for u.Kind != "delete" {
		b.Expect("update").Decode(t, &u)
	}
	if u.Seq != 4 || !u.Message.Deleted || u.Message.Text != "" {
		t.Fatalf("delete update %+v", u)
	}

	// History shows the current state.
	var h struct {
		Messages []msgFull `json:"messages"`
	}
	b.Send("history", "h", map[string]any{"room": "lobby"})
	b.Expect("history", "update").Decode(t, &h)
	if len(h.Messages) != 1 || !h.Messages[0].Deleted || len(h.Messages[0].Reactions) != 1 {
		t.Fatalf("history %+v", h.Messages)
	}

	// A client that saw only seq 1 recovers the three changes in order.
	c := connect(t, ts, "carol", "")
	c.Send("join", "j", map[string]any{"room": "lobby", "since": 1})
	var jb joinedBody
	c.Expect("joined").Decode(t, &jb)
	if jb.Replayed != 3 {
		t.Fatalf("replayed %d, want 3", jb.Replayed)
	}
	check := &seqChecker{t: t, last: 1}
	for i := 0; i < 3; i++ {
		c.Expect("update").Decode(t, &u)
		check.see(u.Seq)
	}
}

// TestReadMarkersUnreadCountsAndReceipts uses account-like users (external
// tokens), whose memberships and read markers are stored.
func TestReadMarkersUnreadCountsAndReceipts(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		testutil.WithExternalTokens(c)
		c.RateBurst = 100
	})
	annTok := testutil.ExternalToken(t, testutil.TokenClaims{Sub: "ann"})
	benTok := testutil.ExternalToken(t, testutil.TokenClaims{Sub: "ben"})
	ann := ts.DialToken(t, "/ws", annTok)
	ann.Send("join", "j", map[string]any{"room": "team"})
	ann.Expect("joined", "unread")
	ben := ts.DialToken(t, "/ws", benTok)
	ben.Send("join", "j", map[string]any{"room": "team"})
	ben.Expect("joined", "unread")
	ben.Close() // ben goes offline; his membership stays
	ann.Expect("presence")
	ann.Expect("presence")

	for i := 0; i < 3; i++ {
		ann.Send("chat", "", map[string]any{"room": "team", "text": "while you were away"})
		ann.Expect("ack")
	}
	ann.Send("private", "p", map[string]any{"to": "ben", "text": "ping me"})
	ann.Expect("ack")

	type unread struct {
		Rooms []struct {
			Room    string `json:"room"`
			Direct  bool   `json:"direct"`
			Unread  int64  `json:"unread"`
			LastSeq int64  `json:"last_seq"`
			ReadSeq int64  `json:"read_seq"`
		} `json:"rooms"`
	}
	ben = ts.DialToken(t, "/ws", benTok)
	var u unread
	// The private message may still be on its way live as ben connects; it
	// can arrive before or after the counts (which include it either way).
	ben.Expect("unread", "private").Decode(t, &u)
	got := map[string]int64{}
	for _, r := range u.Rooms {
		got[r.Room] = r.Unread
	}
	if got["team"] != 3 || got["@ann+ben"] != 1 {
		t.Fatalf("unread on connect = %+v, want team 3 and the conversation 1", u.Rooms)
	}

	ben.Send("join", "j", map[string]any{"room": "team"})
	ben.Expect("joined", "private")
	ann.Expect("presence")
	ben.Send("read", "r", map[string]any{"room": "team", "seq": 2})
	var rb struct {
		Room string `json:"room"`
		Seq  int64  `json:"seq"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	ben.Expect("read").Decode(t, &rb)
	if rb.Seq != 2 {
		t.Fatalf("read reply %+v", rb)
	}
	ann.Expect("read").Decode(t, &rb)
	if rb.User.ID != "ben" || rb.Seq != 2 || rb.Room != "team" {
		t.Fatalf("receipt %+v", rb)
	}
	// Markers never move back.
	ben.Send("read", "r2", map[string]any{"room": "team", "seq": 1})
	ben.Expect("read").Decode(t, &rb)
	if rb.Seq != 2 {
		t.Fatalf("marker moved back to %d", rb.Seq)
	}
	ben.Send("read", "r3", map[string]any{"room": "@ann+ben", "seq": 1})
	ben.Expect("read")
	ann.Expect("read").Decode(t, &rb)
	if rb.Room != "@ann+ben" {
		t.Fatalf("conversation receipt %+v", rb)
	}

	ben.Close()
	ben = ts.DialToken(t, "/ws", benTok)
	ben.Expect("unread").Decode(t, &u)
	got = map[string]int64{}
	for _, r := range u.Rooms {
		got[r.Room] = r.Unread
	}
	if got["team"] != 1 || got["@ann+ben"] != 0 {
		t.Fatalf("unread after reading = %+v, want team 1, conversation 0", u.Rooms)
	}
}

// register makes an account over the HTTP API and returns its id and
// access token.
func register(t *testing.T, ts *testutil.TestServer, username string) (id, token string) {
	t.Helper()
	resp, err := http.Post(ts.URL+"/api/v1/auth/register", "application/json",
		strings.NewReader(`{"username":"`+username+`","password":"correct horse battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("register %s: %d, %v", username, resp.StatusCode, err)
	}
	return tok.User.ID, tok.AccessToken
}

// TestPrivateMessagesNeedARecipientWhoExists: a private message to an id
// that names nobody — a username instead of an id, a guest who has left, an
// external user never seen — is refused with not_found and stores nothing;
// to an account, a connected guest or an external user who has signed in it
// is delivered. A client finds an account's id by name with the API.
func TestPrivateMessagesNeedARecipientWhoExists(t *testing.T) {
	testutil.EachStore(t, func(t *testing.T, useStore func(*config.Config)) {
		ts := testutil.StartServer(t, func(c *config.Config) {
			useStore(c)
			testutil.WithExternalTokens(c)
			c.RateBurst = 100
		})
		bobID, bobToken := register(t, ts, "bob")
		eve := connect(t, ts, "eve", "")
		gone := connect(t, ts, "gone", "")
		gone.Close()
		testutil.Eventually(t, testutil.DefaultWait, func() bool { return ts.Server.Online(gone.ID()) == 0 },
			"the departed guest is still online")
		ts.DialToken(t, "/ws", testutil.ExternalToken(t, testutil.TokenClaims{Sub: "ext-seen", Name: "Seen"})).Close()

		refused := map[string]string{
			"a username, not an id":     "bob",
			"a guest who has left":      gone.ID(),
			"an external user not seen": "ext-never",
			"an account id made up":     "u_01aaaaaaaaaaaaaaaaaaaaaaaa",
		}
		for name, to := range refused {
			eve.Send("private", "p", map[string]any{"to": to, "text": "anyone there?"})
			var e errorBody
			eve.Expect("error").Decode(t, &e)
			if e.Code != "not_found" {
				t.Errorf("%s (%q): %+v, want not_found", name, to, e)
			}
			eve.Send("history", "h", map[string]any{"room": "@" + min(to, eve.ID()) + "+" + max(to, eve.ID())})
			eve.Expect("error").Decode(t, &e)
			if e.Code != "not_found" {
				t.Errorf("%s (%q): a conversation exists after a refused message: %+v", name, to, e)
			}
		}

		// The documented way from a name to an id, then a message.
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/users/Bob", nil)
		req.Header.Set("Authorization", "Bearer "+eve.Welcomed.GuestToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var found struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		}
		err = json.NewDecoder(resp.Body).Decode(&found)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || found.ID != bobID {
			t.Fatalf("look up bob: %d %+v %v, want id %s", resp.StatusCode, found, err, bobID)
		}
		bob := ts.DialToken(t, "/ws", bobToken)
		other := connect(t, ts, "other", "")
		for _, to := range []string{found.ID, "ext-seen", other.ID()} {
			eve.Send("private", "p", map[string]any{"to": to, "text": "hello"})
			eve.Expect("ack")
		}
		bob.Expect("private", "unread")
		other.Expect("private")
	})
}

// TestGuestsStayOutOfPrivateRooms: a guest can neither join a private room
// nor read its history, nor do its messages reach them, on both stores;
// the same guest may join a public room.
func TestGuestsStayOutOfPrivateRooms(t *testing.T) {
	testutil.EachStore(t, func(t *testing.T, useStore func(*config.Config)) {
		ts := testutil.StartServer(t, useStore)
		_, ownerToken := register(t, ts, "owner")
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/rooms", strings.NewReader(`{"name":"secret","private":true}`))
		req.Header.Set("Authorization", "Bearer "+ownerToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create the private room: %d", resp.StatusCode)
		}
		owner := ts.DialToken(t, "/ws", ownerToken)
		owner.Send("join", "j", map[string]any{"room": "secret"})
		owner.Expect("joined", "unread")

		guest := connect(t, ts, "visitor", "")
		for _, frame := range []struct{ typ, room string }{{"join", "secret"}, {"history", "secret"}, {"join", "SECRET"}} {
			guest.Send(frame.typ, "x", map[string]any{"room": frame.room})
			var e errorBody
			guest.Expect("error").Decode(t, &e)
			if e.Code != "forbidden" {
				t.Fatalf("a guest's %s of private room %q: %+v, want forbidden", frame.typ, frame.room, e)
			}
		}
		owner.Send("chat", "c", map[string]any{"room": "secret", "text": "members only"})
		owner.Expect("ack")
		guest.ExpectNone(100 * time.Millisecond)
		join(t, guest, "lobby") // a public room is open to guests
	})
}
