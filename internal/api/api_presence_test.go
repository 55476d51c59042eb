package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/testutil"
)

// TestPresenceAndDisconnect: a backend asks who is in a room and whether a
// user is connected, and ends every connection of a user with 4003.
func TestPresenceAndDisconnect(t *testing.T) {
	ts, _, alice, ac := publishSetup(t)
	root := signInAs(t, ts, "root").AccessToken
	presence := newKey(t, ts, root, "status page", "presence").Key
	users := newKey(t, ts, root, "moderation", "users").Key
	second := dialAs(t, ts, alice.AccessToken) // alice's second tab
	second.Send("join", "j", map[string]any{"room": "lobby"})
	second.Expect("joined", "unread")
	bob := signUp(t, ts, "bob")

	status, body, _ := do(t, ts, "GET", "/api/v1/rooms/lobby/online", "", presence)
	var online struct {
		Room  string
		Users []struct{ ID, Name string }
	}
	if err := json.Unmarshal([]byte(body), &online); err != nil || status != http.StatusOK {
		t.Fatalf("who is in lobby = %d %s", status, body)
	}
	if online.Room != "lobby" || len(online.Users) != 1 || online.Users[0].ID != alice.User.ID {
		t.Fatalf("lobby online = %+v, want alice once", online)
	}
	_, body, _ = do(t, ts, "GET", "/api/v1/rooms/lobby/online", "", alice.AccessToken)
	if err := json.Unmarshal([]byte(body), &online); err != nil || len(online.Users) != 1 {
		t.Fatalf("a member asking who is in lobby: %s", body)
	}

	runScenarios(t, ts, []scenario{
		{name: "alice is connected twice", method: "GET", path: "/api/v1/connections/" + alice.User.ID, token: presence,
			want: http.StatusOK, contains: []string{`"online":true`, `"connections":2`}},
		{name: "bob is not connected", method: "GET", path: "/api/v1/connections/" + bob.User.ID, token: root,
			want: http.StatusOK, contains: []string{`"online":false`, `"connections":0`}},
		{name: "a user may not ask about another", method: "GET", path: "/api/v1/connections/" + bob.User.ID, token: alice.AccessToken,
			want: http.StatusForbidden},
		{name: "a presence key may not disconnect", method: "DELETE", path: "/api/v1/connections/" + alice.User.ID, token: presence,
			want: http.StatusForbidden},
		{name: "a reason too long", method: "DELETE", path: "/api/v1/connections/" + alice.User.ID, token: users,
			body: `{"reason":"` + strings.Repeat("r", 121) + `"}`, want: http.StatusBadRequest},
		{name: "disconnect alice", method: "DELETE", path: "/api/v1/connections/" + alice.User.ID, token: users,
			body: `{"reason":"account suspended"}`, want: http.StatusNoContent},
	})
	for _, c := range []*testutil.Client{ac, second} {
		if code := c.ExpectClose(); code != 4003 {
			t.Fatalf("alice's connection closed with %d, want 4003", code)
		}
	}
	testutil.Eventually(t, testutil.DefaultWait, func() bool {
		_, body, _ := do(t, ts, "GET", "/api/v1/connections/"+alice.User.ID, "", presence)
		return strings.Contains(body, `"online":false`)
	}, "alice is still online after the disconnect")
}
