package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testutil"
)

type roomFrame struct {
	Room    string `json:"room"`
	Event   string `json:"event"`
	User    string `json:"user"`
	Role    string `json:"role"`
	By      string `json:"by"`
	Private bool   `json:"private"`
	Topic   string `json:"topic"`
}

func expectRoom(t *testing.T, c *testutil.Client) roomFrame {
	t.Helper()
	var f roomFrame
	c.Expect("room", "unread", "presence").Decode(t, &f)
	return f
}

// TestRoomChangesReachConnectedClients: an invitation, a new role, a new
// topic and a removal made over the API reach, at once, the member
// concerned (joined to the room or not: an invited user sees the room
// appear without reconnecting) and the room's connected members, each
// once.
func TestRoomChangesReachConnectedClients(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	alice, bob := signUp(t, ts, "alice"), signUp(t, ts, "bob")
	do(t, ts, "POST", "/api/v1/rooms", `{"name":"secret","private":true}`, alice.AccessToken)
	ac := dialAs(t, ts, alice.AccessToken)
	ac.Send("join", "j", map[string]any{"room": "secret"})
	ac.Expect("joined", "unread")
	bc := dialAs(t, ts, bob.AccessToken) // in no room
	member := "/api/v1/rooms/secret/members/" + bob.User.ID

	if status, body, _ := do(t, ts, "PUT", member, "", alice.AccessToken); status != http.StatusCreated {
		t.Fatalf("invite bob = %d %s", status, body)
	}
	for name, c := range map[string]*testutil.Client{"bob": bc, "alice": ac} {
		f := expectRoom(t, c)
		if f.Room != "secret" || f.Event != "added" || f.User != bob.User.ID || f.Role != "member" || f.By != alice.User.ID || !f.Private {
			t.Fatalf("%s got %+v, want bob added as a member by alice", name, f)
		}
	}
	bc.Send("join", "j", map[string]any{"room": "secret"}) // no reconnect needed
	bc.Expect("joined", "unread")
	ac.Expect("presence")

	do(t, ts, "PUT", member, `{"role":"admin"}`, alice.AccessToken)
	for name, c := range map[string]*testutil.Client{"bob": bc, "alice": ac} {
		if f := expectRoom(t, c); f.Event != "role" || f.User != bob.User.ID || f.Role != "admin" {
			t.Fatalf("%s got %+v, want bob's role now admin", name, f)
		}
	}
	do(t, ts, "PUT", member, `{"role":"admin"}`, alice.AccessToken) // no change: no frame

	do(t, ts, "PATCH", "/api/v1/rooms/secret", `{"topic":"launch plans"}`, alice.AccessToken)
	for name, c := range map[string]*testutil.Client{"bob": bc, "alice": ac} {
		if f := expectRoom(t, c); f.Event != "updated" || f.Topic != "launch plans" || f.User != "" {
			t.Fatalf("%s got %+v, want the new topic", name, f)
		}
	}

	do(t, ts, "DELETE", member, "", alice.AccessToken)
	bc.Expect("left", "presence")
	if f := expectRoom(t, bc); f.Event != "removed" || f.User != bob.User.ID {
		t.Fatalf("bob got %+v, want his removal", f)
	}
	if f := expectRoom(t, ac); f.Event != "removed" || f.User != bob.User.ID {
		t.Fatalf("alice got %+v, want bob's removal", f)
	}
	for _, c := range []*testutil.Client{ac, bc} {
		c.ExpectNone(100*time.Millisecond, "presence") // nothing twice
	}
}
