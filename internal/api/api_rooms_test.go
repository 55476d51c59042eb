package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testutil"
)

// skip lists the frames a test client may get unasked between replies.
var skip = []string{"unread", "presence", "read", "room"}

// wsRefused sends a frame and checks the error reply's code.
func wsRefused(t *testing.T, c *testutil.Client, typ string, body map[string]any, code string) {
	t.Helper()
	c.Send(typ, "r-"+typ, body)
	var e wsError
	f := c.Expect("error", skip...)
	f.Decode(t, &e)
	if e.Code != code || f.ID != "r-"+typ {
		t.Fatalf("%s: error %+v (id %q), want code %s", typ, e, f.ID, code)
	}
}

// TestPrivateRoomIsForMembersOnHTTPAndWebSocket: a non-member is refused a
// private room everywhere until invited; then the same token joins it.
func TestPrivateRoomIsForMembersOnHTTPAndWebSocket(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	alice, bob := signUp(t, ts, "alice"), signUp(t, ts, "bob")
	runScenarios(t, ts, []scenario{
		{name: "create private", method: "POST", path: "/api/v1/rooms", token: alice.AccessToken,
			body: `{"name":"Secret","private":true,"topic":"plans"}`, want: 201,
			contains: []string{`"name":"secret"`, `"private":true`, `"topic":"plans"`, `"role":"owner"`, `"owner":"` + alice.User.ID}},
		{name: "create public", method: "POST", path: "/api/v1/rooms", token: alice.AccessToken,
			body: `{"name":"lobby"}`, want: 201, contains: []string{`"private":false`}},
	})

	// Alice says something in the private room over the WebSocket.
	ac := dialAs(t, ts, alice.AccessToken)
	ac.Send("join", "j", map[string]any{"room": "secret"})
	ac.Expect("joined", skip...)
	ac.Send("chat", "c", map[string]any{"room": "secret", "text": "for members only"})
	ac.Expect("ack", skip...)

	secret := "/api/v1/rooms/secret"
	runScenarios(t, ts, []scenario{
		{name: "bob does not see it listed", method: "GET", path: "/api/v1/rooms", token: bob.AccessToken,
			want: 200, contains: []string{`"name":"lobby"`}, notContains: []string{"secret"}},
		{name: "alice does", method: "GET", path: "/api/v1/rooms", token: alice.AccessToken,
			want: 200, contains: []string{`"name":"lobby"`, `"name":"secret"`}},
		{name: "bob: room", method: "GET", path: secret, token: bob.AccessToken, want: 403,
			contains: []string{`"code":"forbidden"`}, notContains: []string{"plans"}},
		{name: "bob: members", method: "GET", path: secret + "/members", token: bob.AccessToken, want: 403,
			notContains: []string{alice.User.ID}},
		{name: "bob: history", method: "GET", path: secret + "/messages", token: bob.AccessToken, want: 403,
			notContains: []string{"for members only"}},
		{name: "bob: invite himself", method: "PUT", path: secret + "/members/" + bob.User.ID, token: bob.AccessToken, want: 403},
		{name: "bob: change it", method: "PATCH", path: secret, token: bob.AccessToken, body: `{"private":false}`, want: 403},
		{name: "alice: room", method: "GET", path: "/api/v1/rooms/SECRET", token: alice.AccessToken, want: 200,
			contains: []string{`"topic":"plans"`, `"last_seq":1`}},
		{name: "alice: history", method: "GET", path: secret + "/messages", token: alice.AccessToken, want: 200,
			contains: []string{"for members only", `"from":{"id":"` + alice.User.ID + `","name":"alice"}`}},
	})

	// Nor does the WebSocket let bob in.
	bc := dialAs(t, ts, bob.AccessToken)
	wsRefused(t, bc, "join", map[string]any{"room": "secret"}, "forbidden")
	wsRefused(t, bc, "history", map[string]any{"room": "secret"}, "forbidden")
	wsRefused(t, bc, "chat", map[string]any{"room": "secret", "text": "let me in"}, "not_joined")

	// Alice invites bob; his same token now joins and chats.
	runScenarios(t, ts, []scenario{
		{name: "invite bob", method: "PUT", path: secret + "/members/" + bob.User.ID, token: alice.AccessToken,
			want: 201, contains: []string{`"id":"` + bob.User.ID, `"role":"member"`}},
		{name: "invite bob again", method: "PUT", path: secret + "/members/" + bob.User.ID, token: alice.AccessToken,
			body: `{"role":"member"}`, want: 200},
		{name: "bob: room now", method: "GET", path: secret, token: bob.AccessToken, want: 200, contains: []string{`"role":"member"`}},
		{name: "bob: members now", method: "GET", path: secret + "/members", token: bob.AccessToken, want: 200,
			contains: []string{`"id":"` + alice.User.ID + `","role":"owner"`, `"id":"` + bob.User.ID + `","role":"member"`}},
		{name: "bob: listed now", method: "GET", path: "/api/v1/rooms", token: bob.AccessToken, want: 200, contains: []string{`"name":"secret"`}},
	})
	bc.Send("join", "j2", map[string]any{"room": "secret"})
	bc.Expect("joined", skip...)
	bc.Send("history", "h", map[string]any{"room": "secret"})
	if f := bc.Expect("history", skip...); !strings.Contains(string(f.Body), "for members only") {
		t.Fatalf("bob's history: %s", f.Body)
	}
	bc.Send("chat", "c2", map[string]any{"room": "secret", "text": "thanks for the invite"})
	bc.Expect("ack", skip...)
	runScenarios(t, ts, []scenario{
		{name: "alice sees bob's message", method: "GET", path: secret + "/messages?limit=1", token: alice.AccessToken,
			want: 200, contains: []string{"thanks for the invite"}, notContains: []string{"for members only"}},
		{name: "alice removes bob", method: "DELETE", path: secret + "/members/" + bob.User.ID, token: alice.AccessToken, want: 204},
	})
	// Bob's open connection is taken out of the room at once: he is told,
	// and can no longer write to it or read what follows.
	if f := bc.Expect("left", append(skip, "message", "ack")...); !strings.Contains(string(f.Body), `"room":"secret"`) || f.ID != "" {
		t.Fatalf("left frame %s", f.Raw)
	}
	wsRefused(t, bc, "chat", map[string]any{"room": "secret", "text": "still here?"}, "not_joined")
	wsRefused(t, bc, "join", map[string]any{"room": "secret"}, "forbidden")
	ac.Send("chat", "c3", map[string]any{"room": "secret", "text": "bob is gone"})
	ac.Expect("ack", append(skip, "message")...)
	bc.ExpectNone(200*time.Millisecond, skip...)
}

// TestRoomRoles: members may not manage a room; admins invite and remove
// members; only the owner makes, demotes and removes admins; nobody removes
// the owner, who cannot leave.
func TestRoomRoles(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	owner, carol, dave, erin := signUp(t, ts, "owner"), signUp(t, ts, "carol"), signUp(t, ts, "dave"), signUp(t, ts, "erin")
	room := "/api/v1/rooms/club"
	member := func(u tokens) string { return room + "/members/" + u.User.ID }
	runScenarios(t, ts, []scenario{
		{name: "create", method: "POST", path: "/api/v1/rooms", token: owner.AccessToken, body: `{"name":"club","private":true}`, want: 201},
		{name: "create again", method: "POST", path: "/api/v1/rooms", token: carol.AccessToken, body: `{"name":"CLUB"}`, want: 409,
			contains: []string{`"code":"invalid"`, "already exists"}},
		{name: "owner invites carol", method: "PUT", path: member(carol), token: owner.AccessToken, want: 201},
		{name: "member carol cannot invite", method: "PUT", path: member(dave), token: carol.AccessToken, want: 403},
		{name: "member carol cannot change the room", method: "PATCH", path: room, token: carol.AccessToken, body: `{"topic":"x"}`, want: 403},
		{name: "member carol cannot promote herself", method: "PUT", path: member(carol), token: carol.AccessToken, body: `{"role":"admin"}`, want: 403},
		{name: "owner makes carol admin", method: "PUT", path: member(carol), token: owner.AccessToken, body: `{"role":"admin"}`,
			want: 200, contains: []string{`"role":"admin"`}},
		{name: "admin carol sets the topic", method: "PATCH", path: room, token: carol.AccessToken, body: `{"topic":"  members' club  "}`,
			want: 200, contains: []string{`"topic":"members' club"`, `"private":true`, `"role":"admin"`}},
		{name: "admin carol invites dave", method: "PUT", path: member(dave), token: carol.AccessToken, want: 201},
		{name: "admin carol cannot make admins", method: "PUT", path: member(erin), token: carol.AccessToken, body: `{"role":"admin"}`, want: 403,
			contains: []string{"only the owner"}},
		{name: "nor re-role the owner", method: "PUT", path: member(owner), token: carol.AccessToken, want: 403},
		{name: "owner makes dave admin", method: "PUT", path: member(dave), token: owner.AccessToken, body: `{"role":"admin"}`, want: 200},
		{name: "admin carol cannot demote admin dave", method: "PUT", path: member(dave), token: carol.AccessToken, body: `{"role":"member"}`, want: 403},
		{name: "admin carol cannot remove admin dave", method: "DELETE", path: member(dave), token: carol.AccessToken, want: 403},
		{name: "admin carol cannot remove the owner", method: "DELETE", path: member(owner), token: carol.AccessToken, want: 403},
		{name: "the owner cannot leave", method: "DELETE", path: member(owner), token: owner.AccessToken, want: 403},
		{name: "owner demotes dave", method: "PUT", path: member(dave), token: owner.AccessToken, body: `{"role":"member"}`,
			want: 200, contains: []string{`"role":"member"`}},
		{name: "admin carol removes dave", method: "DELETE", path: member(dave), token: carol.AccessToken, want: 204},
		{name: "dave is out", method: "GET", path: room, token: dave.AccessToken, want: 403},
		{name: "removing him twice", method: "DELETE", path: member(dave), token: carol.AccessToken, want: 404},
		{name: "a stranger cannot probe members", method: "DELETE", path: member(carol), token: erin.AccessToken, want: 403},
		{name: "admin carol leaves", method: "DELETE", path: member(carol), token: carol.AccessToken, want: 204},
		{name: "carol is out", method: "GET", path: room + "/members", token: carol.AccessToken, want: 403},
		{name: "owner makes the room public", method: "PATCH", path: room, token: owner.AccessToken, body: `{"private":false}`,
			want: 200, contains: []string{`"private":false`, `"topic":"members' club"`}},
		{name: "now anyone reads it", method: "GET", path: room + "/members", token: erin.AccessToken, want: 200,
			contains: []string{owner.User.ID}, notContains: []string{carol.User.ID}},
	})
}

func TestRoomValidation(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	fay := signUp(t, ts, "fay")
	tok := fay.AccessToken
	runScenarios(t, ts, []scenario{
		{name: "no token", method: "GET", path: "/api/v1/rooms", want: 401},
		{name: "a guest's way in is refused", method: "GET", path: "/api/v1/rooms?name=guest", want: 401},
		{name: "bad name", method: "POST", path: "/api/v1/rooms", token: tok, body: `{"name":"-dash"}`, want: 400,
			contains: []string{`"code":"invalid_room"`, "start with a letter or digit"}},
		{name: "no name", method: "POST", path: "/api/v1/rooms", token: tok, body: `{}`, want: 400, contains: []string{"invalid_room"}},
		{name: "conversation key as a name", method: "POST", path: "/api/v1/rooms", token: tok, body: `{"name":"@a+b"}`, want: 400},
		{name: "topic too long", method: "POST", path: "/api/v1/rooms", token: tok,
			body: `{"name":"ok","topic":"` + strings.Repeat("t", 257) + `"}`, want: 400, contains: []string{"topic"}},
		{name: "unknown field", method: "POST", path: "/api/v1/rooms", token: tok, body: `{"name":"ok","owner":"x"}`, want: 400},
		{name: "missing room", method: "GET", path: "/api/v1/rooms/nowhere", token: tok, want: 404, contains: []string{`"code":"not_found"`}},
		{name: "missing room history", method: "GET", path: "/api/v1/rooms/nowhere/messages", token: tok, want: 404},
		{name: "create ok", method: "POST", path: "/api/v1/rooms", token: tok, body: `{"name":"ok"}`, want: 201},
		{name: "empty patch", method: "PATCH", path: "/api/v1/rooms/ok", token: tok, body: `{}`, want: 400},
		{name: "bad role", method: "PUT", path: "/api/v1/rooms/ok/members/" + fay.User.ID, token: tok, body: `{"role":"owner"}`, want: 400},
		{name: "no such user", method: "PUT", path: "/api/v1/rooms/ok/members/u_nobody", token: tok, want: 404},
		{name: "a guest cannot be a member", method: "PUT", path: "/api/v1/rooms/ok/members/guest:bob", token: tok, want: 400},
		{name: "not a member", method: "DELETE", path: "/api/v1/rooms/ok/members/u_nobody", token: tok, want: 404},
	})
}
