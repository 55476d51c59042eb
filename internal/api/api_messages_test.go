package api_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

// history is a history response.
type history struct {
	Room     string `json:"room"`
	Messages []struct {
		ID   string `json:"id"`
		Seq  int64  `json:"seq"`
		TS   string `json:"ts"`
		To   string `json:"to"`
		Text string `json:"text"`
		From struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"from"`
	} `json:"messages"`
}

func (h history) seqs() string {
	s := []int64{}
	for _, m := range h.Messages {
		s = append(s, m.Seq)
	}
	return fmt.Sprint(s)
}

// getHistory fetches a history page and checks it succeeded.
func getHistory(t *testing.T, ts *testutil.TestServer, path, token string) history {
	t.Helper()
	status, body, _ := do(t, ts, "GET", path, "", token)
	if status != 200 {
		t.Fatalf("GET %s = %d %s", path, status, body)
	}
	return decodeJSON[history](t, body)
}

func TestRoomHistoryPages(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	alice, bob := signUp(t, ts, "alice"), signUp(t, ts, "bob")
	c := dialAs(t, ts, alice.AccessToken)
	c.Send("join", "j", map[string]any{"room": "lobby"})
	c.Expect("joined", skip...)
	for i := 1; i <= 5; i++ {
		c.Send("chat", "", map[string]any{"room": "lobby", "text": fmt.Sprintf("message %d", i)})
		c.Expect("ack", skip...)
	}
	base := "/api/v1/rooms/lobby/messages"
	for _, tc := range []struct {
		name, query, want string
	}{
		{"newest first by default", "", "[5 4 3 2 1]"},
		{"newest two", "?limit=2", "[5 4]"},
		{"two before 4", "?before=4&limit=2", "[3 2]"},
		{"after 3, oldest first", "?after=3", "[4 5]"},
		{"after the end", "?after=5", "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := getHistory(t, ts, base+tc.query, bob.AccessToken) // a public room: any account reads it
			if got := h.seqs(); got != tc.want || h.Room != "lobby" {
				t.Fatalf("room %q seqs %s, want lobby %s", h.Room, got, tc.want)
			}
		})
	}
	h := getHistory(t, ts, base+"?limit=1", bob.AccessToken)
	m := h.Messages[0]
	if m.Text != "message 5" || m.From.ID != alice.User.ID || m.From.Name != "alice" || m.ID == "" || m.To != "" {
		t.Fatalf("message %+v", m)
	}
	if _, err := time.Parse(time.RFC3339, m.TS); err != nil {
		t.Fatalf("ts %q: %v", m.TS, err)
	}
	runScenarios(t, ts, []scenario{
		{name: "limit 0", method: "GET", path: base + "?limit=0", token: bob.AccessToken, want: 400, contains: []string{"limit must be 1 to 1000"}},
		{name: "limit 1001", method: "GET", path: base + "?limit=1001", token: bob.AccessToken, want: 400},
		{name: "limit not a number", method: "GET", path: base + "?limit=ten", token: bob.AccessToken, want: 400},
		{name: "negative before", method: "GET", path: base + "?before=-1", token: bob.AccessToken, want: 400},
		{name: "before and after", method: "GET", path: base + "?before=3&after=1", token: bob.AccessToken, want: 400,
			contains: []string{"not both"}},
		{name: "no token", method: "GET", path: base, want: 401},
	})
}

func TestConversationHistoryAndUnread(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	alice, bob, carol := signUp(t, ts, "alice"), signUp(t, ts, "bob"), signUp(t, ts, "carol")
	c := dialAs(t, ts, alice.AccessToken)
	c.Send("private", "p", map[string]any{"to": bob.User.ID, "text": "just between us"})
	c.Expect("ack", skip...)

	for _, who := range []struct {
		name       string
		me, peer   tokens
		wantSender string
	}{
		{"alice's view", alice, bob, alice.User.ID},
		{"bob's view", bob, alice, alice.User.ID},
	} {
		h := getHistory(t, ts, "/api/v1/conversations/"+who.peer.User.ID+"/messages", who.me.AccessToken)
		if len(h.Messages) != 1 || h.Messages[0].Text != "just between us" || h.Messages[0].To != bob.User.ID ||
			h.Messages[0].From.ID != who.wantSender || h.Room[0] != '@' {
			t.Fatalf("%s: %+v", who.name, h)
		}
	}
	if h := getHistory(t, ts, "/api/v1/conversations/"+bob.User.ID+"/messages", carol.AccessToken); len(h.Messages) != 0 {
		t.Fatalf("carol sees %+v in a conversation she never had", h)
	}
	runScenarios(t, ts, []scenario{
		{name: "with yourself", method: "GET", path: "/api/v1/conversations/" + alice.User.ID + "/messages", token: alice.AccessToken, want: 400},
		{name: "bad paging", method: "GET", path: "/api/v1/conversations/" + bob.User.ID + "/messages?limit=x", token: alice.AccessToken, want: 400},
		{name: "bob has one unread", method: "GET", path: "/api/v1/unread", token: bob.AccessToken, want: 200,
			contains: []string{`"direct":true`, `"unread":1`, `"last_seq":1`, `"read_seq":0`}},
		{name: "alice has none: her own message", method: "GET", path: "/api/v1/unread", token: alice.AccessToken, want: 200,
			contains: []string{`"unread":0`}},
		{name: "carol has no rooms", method: "GET", path: "/api/v1/unread", token: carol.AccessToken, want: 200,
			contains: []string{`{"rooms":[]}`}},
	})
}

// TestExternalTokensAreHeldToTheirRoomsClaim: an integrating app's user
// uses the room endpoints, but only for the rooms its token lists.
func TestExternalTokensAreHeldToTheirRoomsClaim(t *testing.T) {
	const secret = "an external secret of at least thirty-two bytes"
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.JWTAlgorithm = "HS256"
		c.JWTSecret = secret
	})
	mint := func(sub string, rooms []string) string {
		claims := jwt.MapClaims{"sub": sub, "name": "Ext " + sub, "exp": time.Now().Add(time.Minute).Unix()}
		if rooms != nil {
			claims["rooms"] = rooms
		}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	limited, free := mint("ext-1", []string{"General"}), mint("ext-2", nil)
	runScenarios(t, ts, []scenario{
		{name: "me", method: "GET", path: "/api/v1/me", token: limited, want: 200,
			contains: []string{`"id":"ext-1"`, `"name":"Ext ext-1"`, `"external":true`}},
		{name: "create an allowed room", method: "POST", path: "/api/v1/rooms", token: limited, body: `{"name":"general"}`, want: 201},
		{name: "create another", method: "POST", path: "/api/v1/rooms", token: limited, body: `{"name":"other"}`, want: 403,
			contains: []string{"does not allow"}},
		{name: "the unrestricted user creates it", method: "POST", path: "/api/v1/rooms", token: free, body: `{"name":"other"}`, want: 201},
		{name: "list shows only allowed rooms", method: "GET", path: "/api/v1/rooms", token: limited, want: 200,
			contains: []string{`"name":"general"`}, notContains: []string{`"name":"other"`}},
		{name: "history of an allowed room", method: "GET", path: "/api/v1/rooms/general/messages", token: limited, want: 200},
		{name: "history of another", method: "GET", path: "/api/v1/rooms/other/messages", token: limited, want: 403},
		{name: "members of another", method: "GET", path: "/api/v1/rooms/other/members", token: limited, want: 403},
		{name: "invite an external user with no account", method: "PUT", path: "/api/v1/rooms/other/members/ext-1", token: free, want: 201},
		{name: "still not allowed by the token", method: "GET", path: "/api/v1/rooms/other", token: limited, want: 403},
		{name: "no session to sign out", method: "POST", path: "/api/v1/auth/logout", token: limited, want: 400},
		{name: "a forged token", method: "GET", path: "/api/v1/me", token: limited + "x", want: 401},
	})
}
