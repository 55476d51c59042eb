package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

type modFrame struct {
	Room     string `json:"room"`
	Event    string `json:"event"`
	User     string `json:"user"`
	By       string `json:"by"`
	Reason   string `json:"reason"`
	Until    string `json:"until"`
	Locked   bool   `json:"locked"`
	Archived bool   `json:"archived"`
}

// joinRoom joins c to room and waits for the answer.
func joinRoom(t *testing.T, c *testutil.Client, room string) {
	t.Helper()
	c.Send("join", "j-"+room, map[string]any{"room": room})
	c.Expect("joined", "unread", "presence", "room")
}

// sendErr sends a chat frame and returns the error it gets, or "" for an
// ack.
func sendErr(t *testing.T, c *testutil.Client, room, text string) string {
	t.Helper()
	c.Send("chat", "c", map[string]any{"room": room, "text": text})
	for {
		f := c.Next()
		switch f.Type {
		case "ack":
			return ""
		case "error":
			var e wsError
			f.Decode(t, &e)
			return e.Code + ": " + e.Message
		}
	}
}

// TestBanKeepsAUserOut: a banned user is taken out of the room at once,
// told why, and cannot join, read or be invited again until the ban is
// lifted; only moderators ban, never the owner, and the audit log keeps
// both actions.
func TestBanKeepsAUserOut(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	root := admin(t, ts)
	alice, bob, carl := signUp(t, ts, "alice"), signUp(t, ts, "bob"), signUp(t, ts, "carl")
	ac, bc := dialAs(t, ts, alice.AccessToken), dialAs(t, ts, bob.AccessToken)
	joinRoom(t, ac, "team") // alice owns it
	joinRoom(t, bc, "team")
	ac.Expect("presence")
	bans := "/api/v1/rooms/team/bans/"

	runScenarios(t, ts, []scenario{
		{name: "a member bans", method: "PUT", path: bans + alice.User.ID, token: carl.AccessToken, want: http.StatusForbidden},
		{name: "the owner", method: "PUT", path: bans + alice.User.ID, token: root, want: http.StatusForbidden,
			contains: []string{"owner"}},
		{name: "oneself", method: "PUT", path: bans + alice.User.ID, token: alice.AccessToken, want: http.StatusBadRequest},
		{name: "nobody", method: "PUT", path: bans + "u_nobody", token: alice.AccessToken, want: http.StatusNotFound},
		{name: "a bad duration", method: "PUT", path: bans + bob.User.ID, token: alice.AccessToken,
			body: `{"duration_seconds":-1}`, want: http.StatusBadRequest, contains: []string{"duration_seconds"}},
	})
	status, body, _ := do(t, ts, "PUT", bans+bob.User.ID, `{"reason":"spam"}`, alice.AccessToken)
	if status != http.StatusOK || !strings.Contains(body, `"reason":"spam"`) || strings.Contains(body, "expires_at") {
		t.Fatalf("ban bob = %d %s", status, body)
	}
	var f modFrame
	bc.Expect("room", "presence").Decode(t, &f)
	if f.Event != "banned" || f.User != bob.User.ID || f.Reason != "spam" || f.By != alice.User.ID {
		t.Fatalf("bob got %+v, want his ban", f)
	}
	bc.Expect("left", "presence")
	ac.Expect("room", "presence").Decode(t, &f)
	if f.Event != "banned" || f.User != bob.User.ID {
		t.Fatalf("alice got %+v, want bob's ban", f)
	}
	ac.Send("chat", "c", map[string]any{"room": "team", "text": "bob cannot read this"})
	ac.Expect("ack", "presence")
	bc.ExpectNone(100*time.Millisecond, "presence")

	bc.Send("join", "again", map[string]any{"room": "team"})
	var e wsError
	bc.Expect("error").Decode(t, &e)
	if e.Code != "forbidden" || !strings.Contains(e.Message, "banned") {
		t.Fatalf("bob's join again got %+v, want banned", e)
	}
	bc.Send("history", "h", map[string]any{"room": "team"})
	bc.Expect("error").Decode(t, &e)
	if e.Code != "forbidden" {
		t.Fatalf("bob's history got %+v, want forbidden", e)
	}
	runScenarios(t, ts, []scenario{
		{name: "history over HTTP", method: "GET", path: "/api/v1/rooms/team/messages", token: bob.AccessToken,
			want: http.StatusForbidden, contains: []string{"banned"}},
		{name: "invited back", method: "PUT", path: "/api/v1/rooms/team/members/" + bob.User.ID, token: alice.AccessToken,
			want: http.StatusForbidden, contains: []string{"lift the ban"}},
		{name: "the list", method: "GET", path: "/api/v1/rooms/team/bans", token: alice.AccessToken,
			want: http.StatusOK, contains: []string{`"user":"` + bob.User.ID, `"reason":"spam"`}},
		{name: "the list to a member", method: "GET", path: "/api/v1/rooms/team/bans", token: carl.AccessToken,
			want: http.StatusForbidden},
		{name: "lifted", method: "DELETE", path: bans + bob.User.ID, token: alice.AccessToken, want: http.StatusNoContent},
		{name: "lifted twice", method: "DELETE", path: bans + bob.User.ID, token: alice.AccessToken, want: http.StatusNotFound},
		{name: "audit", method: "GET", path: "/api/v1/admin/audit?room=Team", token: root, want: http.StatusOK,
			contains: []string{`"action":"room.unban"`, `"action":"room.ban"`, `"reason":"spam"`, `"actor":"` + alice.User.ID}},
	})
	joinRoom(t, bc, "team")
	bc.Send("history", "h", map[string]any{"room": "team"})
	bc.Expect("history", "presence")
}

// TestMuteMakesReadOnly: a muted member still reads the room but cannot
// post, type or react there, until unmuted; a timed mute says when it
// ends.
func TestMuteMakesReadOnly(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	alice, bob := signUp(t, ts, "alice"), signUp(t, ts, "bob")
	ac, bc := dialAs(t, ts, alice.AccessToken), dialAs(t, ts, bob.AccessToken)
	joinRoom(t, ac, "team")
	joinRoom(t, bc, "team")
	ac.Expect("presence")

	status, body, _ := do(t, ts, "PUT", "/api/v1/rooms/team/mutes/"+bob.User.ID, `{"duration_seconds":3600}`, alice.AccessToken)
	if status != http.StatusOK || !strings.Contains(body, `"expires_at"`) {
		t.Fatalf("mute bob = %d %s", status, body)
	}
	var f modFrame
	bc.Expect("room").Decode(t, &f)
	if f.Event != "muted" || f.Until == "" {
		t.Fatalf("bob got %+v, want a mute with its end", f)
	}
	ac.Expect("room")
	if err := sendErr(t, bc, "team", "let me speak"); !strings.Contains(err, "muted in room") || !strings.Contains(err, " until ") {
		t.Fatalf("bob's message after his mute got %q, want refused as muted", err)
	}
	bc.Send("typing", "", map[string]any{"room": "team", "state": "start"})
	ac.Send("chat", "c", map[string]any{"room": "team", "text": "still here"})
	ac.Expect("ack")
	bc.Expect("message") // reads, and alice saw no typing from him before it
	ac.ExpectNone(100*time.Millisecond, "presence")

	do(t, ts, "DELETE", "/api/v1/rooms/team/mutes/"+bob.User.ID, "", alice.AccessToken)
	bc.Expect("room")
	if err := sendErr(t, bc, "team", "thanks"); err != "" {
		t.Fatalf("bob's message after his mute was lifted got %q", err)
	}
}

// TestLockedAndArchivedRooms: in a locked room only the owner and admins
// (and the application) post; in an archived one no one does; only the
// owner archives.
func TestLockedAndArchivedRooms(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	root := admin(t, ts)
	key := newKey(t, ts, root, "backend", "publish").Key
	alice, bob := signUp(t, ts, "alice"), signUp(t, ts, "bob")
	ac, bc := dialAs(t, ts, alice.AccessToken), dialAs(t, ts, bob.AccessToken)
	joinRoom(t, ac, "news")
	joinRoom(t, bc, "news")
	do(t, ts, "PUT", "/api/v1/rooms/news/members/"+bob.User.ID, `{"role":"member"}`, alice.AccessToken)

	if status, body, _ := do(t, ts, "PATCH", "/api/v1/rooms/news", `{"locked":true}`, alice.AccessToken); status != http.StatusOK ||
		!strings.Contains(body, `"locked":true`) {
		t.Fatalf("lock = %d %s", status, body)
	}
	if err := sendErr(t, bc, "news", "hi"); !strings.Contains(err, "locked") {
		t.Fatalf("bob's post in a locked room got %q, want refused", err)
	}
	if err := sendErr(t, ac, "news", "announcement"); err != "" {
		t.Fatalf("the owner's post in a locked room: %s", err)
	}
	if status, body, _ := do(t, ts, "POST", "/api/v1/rooms/news/messages", `{"text":"from the app"}`, key); status != http.StatusCreated {
		t.Fatalf("the application's post in a locked room = %d %s", status, body)
	}

	runScenarios(t, ts, []scenario{
		{name: "a member archives", method: "PATCH", path: "/api/v1/rooms/news", body: `{"archived":true}`,
			token: bob.AccessToken, want: http.StatusForbidden},
		{name: "the owner archives", method: "PATCH", path: "/api/v1/rooms/news", body: `{"archived":true}`,
			token: alice.AccessToken, want: http.StatusOK, contains: []string{`"archived":true`}},
		{name: "the application posts", method: "POST", path: "/api/v1/rooms/news/messages", body: `{"text":"late"}`,
			token: key, want: http.StatusForbidden, contains: []string{"archived"}},
		{name: "a batch", method: "POST", path: "/api/v1/messages", body: `{"messages":[{"room":"news","text":"x"}]}`,
			token: key, want: http.StatusForbidden, contains: []string{"messages[0]", "archived"}},
		{name: "history still reads", method: "GET", path: "/api/v1/rooms/news/messages", token: bob.AccessToken,
			want: http.StatusOK, contains: []string{"announcement"}},
		{name: "audit", method: "GET", path: "/api/v1/admin/audit?room=news", token: root, want: http.StatusOK,
			contains: []string{`"action":"room.lock"`, `"action":"room.archive"`}},
	})
	if err := sendErr(t, ac, "news", "one more"); !strings.Contains(err, "archived") {
		t.Fatalf("the owner's post in an archived room got %q, want refused", err)
	}
	do(t, ts, "PATCH", "/api/v1/rooms/news", `{"archived":false,"locked":false}`, alice.AccessToken)
	if err := sendErr(t, bc, "news", "open again"); err != "" {
		t.Fatalf("bob's post after the room opened again got %q", err)
	}
}

// TestKickAndModeratorDeletes: a moderator takes a guest out of a public
// room and deletes someone else's message, over HTTP and the WebSocket; a
// member deletes only their own.
func TestKickAndModeratorDeletes(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	root := admin(t, ts)
	alice, bob := signUp(t, ts, "alice"), signUp(t, ts, "bob")
	ac, bc := dialAs(t, ts, alice.AccessToken), dialAs(t, ts, bob.AccessToken)
	joinRoom(t, ac, "lobby")
	joinRoom(t, bc, "lobby")
	guest := ts.Dial(t, "/ws/lobby?name=troll")
	guest.Welcome()
	guest.Expect("joined")
	ac.Expect("presence", "presence")

	if status, body, _ := do(t, ts, "DELETE", "/api/v1/rooms/lobby/members/"+guest.ID(), "", alice.AccessToken); status != http.StatusNoContent {
		t.Fatalf("kick the guest = %d %s", status, body)
	}
	guest.Expect("left", "room", "presence")

	bc.Send("chat", "b", map[string]any{"room": "lobby", "text": "bob's"})
	var ack struct {
		MessageID string `json:"message_id"`
	}
	bc.Expect("ack", "presence", "room").Decode(t, &ack)
	runScenarios(t, ts, []scenario{
		{name: "another member", method: "DELETE", path: "/api/v1/rooms/lobby/messages/" + ack.MessageID,
			token: signUp(t, ts, "carl").AccessToken, want: http.StatusForbidden},
		{name: "a moderator", method: "DELETE", path: "/api/v1/rooms/lobby/messages/" + ack.MessageID,
			token: alice.AccessToken, want: http.StatusNoContent},
		{name: "again", method: "DELETE", path: "/api/v1/rooms/lobby/messages/" + ack.MessageID,
			token: alice.AccessToken, want: http.StatusNotFound},
	})
	bc.Expect("update", "presence", "room", "message")
	bc.Send("chat", "b2", map[string]any{"room": "lobby", "text": "bob's second"})
	bc.Expect("ack", "presence", "room", "update").Decode(t, &ack)
	ac.Send("delete", "d", map[string]any{"room": "lobby", "message_id": ack.MessageID})
	ac.Expect("ack", "presence", "room", "message", "update")
	runScenarios(t, ts, []scenario{
		{name: "audit", method: "GET", path: "/api/v1/admin/audit?action=message.delete", token: root, want: http.StatusOK,
			contains: []string{`"target":"` + ack.MessageID, `"sender":"` + bob.User.ID}},
		{name: "audit of the kick", method: "GET", path: "/api/v1/admin/audit?action=room.kick", token: root, want: http.StatusOK,
			contains: []string{`"target":"` + guest.ID()}},
		{name: "audit for a user", method: "GET", path: "/api/v1/admin/audit", token: alice.AccessToken, want: http.StatusForbidden},
		{name: "audit of no such action", method: "GET", path: "/api/v1/admin/audit?action=room.explode", token: root,
			want: http.StatusBadRequest, contains: []string{"room.ban"}},
	})
}

// TestDeleteRoom: only the owner deletes a room; everyone in it is told
// and taken out; its history is gone, and a room made again under the name
// starts afresh.
func TestDeleteRoom(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	alice, bob := signUp(t, ts, "alice"), signUp(t, ts, "bob")
	ac, bc := dialAs(t, ts, alice.AccessToken), dialAs(t, ts, bob.AccessToken)
	joinRoom(t, ac, "old")
	joinRoom(t, bc, "old")
	if err := sendErr(t, ac, "old", "history to lose"); err != "" {
		t.Fatal(err)
	}
	runScenarios(t, ts, []scenario{
		{name: "a member", method: "DELETE", path: "/api/v1/rooms/old", token: bob.AccessToken, want: http.StatusForbidden},
		{name: "the owner", method: "DELETE", path: "/api/v1/rooms/old", token: alice.AccessToken, want: http.StatusNoContent},
		{name: "gone", method: "GET", path: "/api/v1/rooms/old", token: alice.AccessToken, want: http.StatusNotFound},
		{name: "twice", method: "DELETE", path: "/api/v1/rooms/old", token: alice.AccessToken, want: http.StatusNotFound},
	})
	for name, c := range map[string]*testutil.Client{"alice": ac, "bob": bc} {
		var f modFrame
		c.Expect("room", "presence", "message").Decode(t, &f)
		if f.Event != "deleted" || f.By != alice.User.ID {
			t.Fatalf("%s got %+v, want the deletion", name, f)
		}
		c.Expect("left", "presence")
	}
	joinRoom(t, bc, "old") // bob makes it again
	var ack struct {
		Seq int64 `json:"seq"`
	}
	bc.Send("chat", "c", map[string]any{"room": "old", "text": "new start"})
	bc.Expect("ack").Decode(t, &ack)
	if ack.Seq != 1 {
		t.Fatalf("the first message of the room made again has seq %d, want 1", ack.Seq)
	}
}

// TestRoomCreationRules: who may create rooms, reserved names and the
// per-user limit hold over the WebSocket and the API alike; API keys are
// not bound by them.
func TestRoomCreationRules(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.RoomCreation = "accounts"
		c.ReservedRooms = []string{"General"}
		c.MaxRoomsPerUser = 2
	})
	root := admin(t, ts)
	key := newKey(t, ts, root, "rooms", "rooms").Key
	alice := signUp(t, ts, "alice")

	guest := ts.Dial(t, "/ws?name=visitor")
	guest.Welcome()
	guest.Send("join", "j", map[string]any{"room": "mine"})
	var e wsError
	guest.Expect("error").Decode(t, &e)
	if e.Code != "forbidden" || !strings.Contains(e.Message, "guests may not create rooms") {
		t.Fatalf("a guest creating a room got %+v", e)
	}
	ac := dialAs(t, ts, alice.AccessToken)
	ac.Send("join", "j", map[string]any{"room": "general"})
	ac.Expect("error", "unread").Decode(t, &e)
	if !strings.Contains(e.Message, "reserved") {
		t.Fatalf("a reserved name got %+v", e)
	}
	joinRoom(t, ac, "one")
	runScenarios(t, ts, []scenario{
		{name: "a second room", method: "POST", path: "/api/v1/rooms", body: `{"name":"two"}`, token: alice.AccessToken,
			want: http.StatusCreated},
		{name: "a third room", method: "POST", path: "/api/v1/rooms", body: `{"name":"three"}`, token: alice.AccessToken,
			want: http.StatusForbidden, contains: []string{"you own 2 rooms"}},
		{name: "reserved over HTTP", method: "POST", path: "/api/v1/rooms", body: `{"name":"GENERAL"}`, token: root,
			want: http.StatusCreated},
		{name: "a key", method: "POST", path: "/api/v1/rooms", body: `{"name":"support"}`, token: key, want: http.StatusCreated},
	})
	joinRoom(t, guest, "general") // exists now: guests may join
	ac.Send("join", "j", map[string]any{"room": "three"})
	ac.Expect("error").Decode(t, &e)
	if !strings.Contains(e.Message, "you own 2 rooms") {
		t.Fatalf("a third room over the WebSocket got %+v", e)
	}
	do(t, ts, "DELETE", "/api/v1/rooms/two", "", alice.AccessToken)
	joinRoom(t, ac, "three")

	onlyAdmins := testutil.StartServer(t, func(c *config.Config) { c.RoomCreation = "admins" })
	bob := signUp(t, onlyAdmins, "bob")
	runScenarios(t, onlyAdmins, []scenario{
		{name: "an account", method: "POST", path: "/api/v1/rooms", body: `{"name":"x"}`, token: bob.AccessToken,
			want: http.StatusForbidden, contains: []string{"only server administrators"}},
		{name: "an admin", method: "POST", path: "/api/v1/rooms", body: `{"name":"x"}`, token: admin(t, onlyAdmins),
			want: http.StatusCreated},
	})
}
