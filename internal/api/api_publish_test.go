package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testutil"
)

type ackJSON struct {
	Room      string `json:"room"`
	MessageID string `json:"message_id"`
	Seq       int64  `json:"seq"`
	Duplicate bool   `json:"duplicate"`
}

type messageFrame struct {
	Room string `json:"room"`
	ID   string `json:"id"`
	Seq  int64  `json:"seq"`
	From struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"from"`
	To   string `json:"to"`
	Text string `json:"text"`
}

// publishSetup is a server with an admin, a key that publishes, and alice
// connected to lobby over the WebSocket.
func publishSetup(t *testing.T) (ts *testutil.TestServer, key string, alice tokens, ac *testutil.Client) {
	t.Helper()
	ts = testutil.StartServer(t, nil)
	root := admin(t, ts)
	key = newKey(t, ts, root, "deploy bot", "publish", "rooms").Key
	alice = signUp(t, ts, "alice")
	ac = dialAs(t, ts, alice.AccessToken)
	ac.Send("join", "j", map[string]any{"room": "lobby"})
	ac.Expect("joined", "unread")
	return ts, key, alice, ac
}

// TestBackendPostsIntoARoom: a backend's post takes the durable path of a
// chat frame: members get a message frame with the room's next sequence,
// and a retry with the same client_id is stored once.
func TestBackendPostsIntoARoom(t *testing.T) {
	ts, key, alice, ac := publishSetup(t)
	ac.Send("chat", "c", map[string]any{"room": "lobby", "text": "first, from the socket"})
	ac.Expect("ack")

	status, body, _ := do(t, ts, "POST", "/api/v1/rooms/Lobby/messages", `{"text":"deployed v2","client_id":"deploy-1"}`, key)
	if status != http.StatusCreated {
		t.Fatalf("post = %d %s", status, body)
	}
	posted := decodeJSON[ackJSON](t, body)
	if posted.Room != "lobby" || posted.Seq != 2 || posted.MessageID == "" || posted.Duplicate {
		t.Fatalf("post answered %+v, want seq 2 in lobby", posted)
	}
	var m messageFrame
	ac.Expect("message").Decode(t, &m)
	if m.Seq != 2 || m.ID != posted.MessageID || m.From.ID != "system" || m.From.Name != "deploy bot" || m.Text != "deployed v2" {
		t.Fatalf("alice got %+v", m)
	}

	status, body, _ = do(t, ts, "POST", "/api/v1/rooms/lobby/messages", `{"text":"deployed v2","client_id":"deploy-1"}`, key)
	again := decodeJSON[ackJSON](t, body)
	if status != http.StatusOK || !again.Duplicate || again.MessageID != posted.MessageID || again.Seq != 2 {
		t.Fatalf("retry = %d %+v, want 200 with the first post's ack marked duplicate", status, again)
	}

	status, body, _ = do(t, ts, "POST", "/api/v1/rooms/lobby/messages",
		`{"text":"on behalf of alice","as":"`+alice.User.ID+`"}`, key)
	if status != http.StatusCreated {
		t.Fatalf("post as alice = %d %s", status, body)
	}
	ac.Expect("message").Decode(t, &m)
	if m.Seq != 3 || m.From.ID != alice.User.ID || m.From.Name != "alice" {
		t.Fatalf("alice got %+v, want seq 3 from herself (the retry stored nothing)", m)
	}
	ac.ExpectNone(100 * time.Millisecond)
}

// TestBackendPostsABatch: many messages in one request are stored in the
// order given, each room's in increasing sequence, and each one's failure
// (a room that does not exist) is its own.
func TestBackendPostsABatch(t *testing.T) {
	ts, key, _, ac := publishSetup(t)
	do(t, ts, "POST", "/api/v1/rooms", `{"name":"news"}`, key)
	var msgs []string
	for i := range 6 {
		room := []string{"lobby", "news"}[i%2]
		msgs = append(msgs, fmt.Sprintf(`{"room":%q,"text":"item %d","client_id":"b-%d"}`, room, i, i))
	}
	msgs = append(msgs, `{"room":"nowhere","text":"lost"}`)
	status, body, _ := do(t, ts, "POST", "/api/v1/messages", `{"messages":[`+strings.Join(msgs, ",")+`]}`, key)
	if status != http.StatusOK {
		t.Fatalf("batch = %d %s", status, body)
	}
	var res struct {
		Results []struct {
			ackJSON
			Error *struct{ Code string } `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || len(res.Results) != 7 {
		t.Fatalf("batch answer %s: %v", body, err)
	}
	for i, r := range res.Results[:6] {
		if r.Error != nil || r.Seq != int64(i/2+1) {
			t.Fatalf("result %d = %+v, want seq %d", i, r, i/2+1)
		}
	}
	if e := res.Results[6].Error; e == nil || e.Code != "not_found" {
		t.Fatalf("the missing room's result = %+v, want not_found", res.Results[6])
	}
	for i := 0; i < 6; i += 2 {
		var m messageFrame
		ac.Expect("message").Decode(t, &m)
		if m.Text != fmt.Sprint("item ", i) || m.Seq != int64(i/2+1) {
			t.Fatalf("alice got %+v, want item %d", m, i)
		}
	}
}

// TestBackendSendsPrivateMessagesAndNotices: a private message from the
// application or from a user reaches the recipient's connections; notices
// reach a room's connections, or everyone's, and are not stored.
func TestBackendSendsPrivateMessagesAndNotices(t *testing.T) {
	ts, key, alice, ac := publishSetup(t)
	bob := signUp(t, ts, "bob")
	bc := dialAs(t, ts, bob.AccessToken)

	status, body, _ := do(t, ts, "POST", "/api/v1/conversations/"+bob.User.ID+"/messages", `{"text":"your order shipped"}`, key)
	if status != http.StatusCreated {
		t.Fatalf("private from the application = %d %s", status, body)
	}
	var m messageFrame
	bc.Expect("private", "unread").Decode(t, &m)
	if m.From.ID != "system" || m.To != bob.User.ID || m.Text != "your order shipped" {
		t.Fatalf("bob got %+v", m)
	}
	status, body, _ = do(t, ts, "POST", "/api/v1/conversations/"+bob.User.ID+"/messages",
		`{"text":"hi from alice","from":"`+alice.User.ID+`"}`, key)
	if status != http.StatusCreated {
		t.Fatalf("private from alice = %d %s", status, body)
	}
	bc.Expect("private").Decode(t, &m)
	if m.From.ID != alice.User.ID {
		t.Fatalf("bob got %+v, want it from alice", m)
	}
	ac.Expect("private").Decode(t, &m) // alice's own connections see it too

	status, body, _ = do(t, ts, "POST", "/api/v1/notices", `{"room":"lobby","text":"maintenance at noon"}`, key)
	if status != http.StatusAccepted {
		t.Fatalf("room notice = %d %s", status, body)
	}
	var n struct{ Room, Text string }
	ac.Expect("system").Decode(t, &n)
	if n.Room != "lobby" || n.Text != "maintenance at noon" {
		t.Fatalf("alice got notice %+v", n)
	}
	bc.ExpectNone(100 * time.Millisecond) // bob is not in lobby

	do(t, ts, "POST", "/api/v1/notices", `{"text":"restarting soon"}`, key)
	for _, c := range []*testutil.Client{ac, bc} {
		n = struct{ Room, Text string }{}
		c.Expect("system").Decode(t, &n)
		if n.Room != "" || n.Text != "restarting soon" {
			t.Fatalf("notice to everyone arrived as %+v", n)
		}
	}
	_, body, _ = do(t, ts, "GET", "/api/v1/rooms/lobby/messages", "", key)
	if strings.Contains(body, "maintenance") {
		t.Fatalf("a notice was stored: %s", body)
	}
}

// TestPublishingRefusesBadInput: every refusal names the field, and
// nothing is stored.
func TestPublishingRefusesBadInput(t *testing.T) {
	ts, key, alice, ac := publishSetup(t)
	root := signInAs(t, ts, "root")
	readOnly := newKey(t, ts, root.AccessToken, "reader", "rooms").Key
	guest := ts.Dial(t, "/ws?name=visitor")
	guestID := guest.Welcome().User.ID
	long := strings.Repeat("x", 4001)
	batch := func(items ...string) string { return `{"messages":[` + strings.Join(items, ",") + `]}` }
	var hundredOne []string
	for range 101 {
		hundredOne = append(hundredOne, `{"room":"lobby","text":"x"}`)
	}
	post := "/api/v1/rooms/lobby/messages"
	runScenarios(t, ts, []scenario{
		{name: "a user's token", method: "POST", path: post, token: alice.AccessToken, body: `{"text":"x"}`,
			want: http.StatusForbidden, contains: []string{"only API keys"}},
		{name: "a key without publish", method: "POST", path: post, token: readOnly, body: `{"text":"x"}`,
			want: http.StatusForbidden, contains: []string{`\"publish\"`}},
		{name: "no text", method: "POST", path: post, token: key, body: `{}`, want: http.StatusBadRequest, contains: []string{"text"}},
		{name: "text too long", method: "POST", path: post, token: key, body: `{"text":"` + long + `"}`,
			want: http.StatusBadRequest, contains: []string{`"code":"too_long"`}},
		{name: "client_id too long", method: "POST", path: post, token: key, body: `{"text":"x","client_id":"` + strings.Repeat("c", 65) + `"}`,
			want: http.StatusBadRequest, contains: []string{"client_id"}},
		{name: "a bad room name", method: "POST", path: "/api/v1/rooms/no%20spaces/messages", token: key, body: `{"text":"x"}`,
			want: http.StatusBadRequest, contains: []string{`"code":"invalid_room"`}},
		{name: "a room that does not exist", method: "POST", path: "/api/v1/rooms/nowhere/messages", token: key, body: `{"text":"x"}`,
			want: http.StatusNotFound, contains: []string{"nowhere"}},
		{name: "as nobody", method: "POST", path: post, token: key, body: `{"text":"x","as":"u_nobody"}`,
			want: http.StatusNotFound, contains: []string{"as:"}},
		{name: "as a guest", method: "POST", path: post, token: key, body: `{"text":"x","as":"` + guestID + `"}`,
			want: http.StatusNotFound},
		{name: "a name with as", method: "POST", path: post, token: key, body: `{"text":"x","as":"` + alice.User.ID + `","name":"Eve"}`,
			want: http.StatusBadRequest, contains: []string{"name"}},
		{name: "a name too long", method: "POST", path: post, token: key, body: `{"text":"x","name":"` + strings.Repeat("n", 65) + `"}`,
			want: http.StatusBadRequest, contains: []string{"name"}},
		{name: "an empty batch", method: "POST", path: "/api/v1/messages", token: key, body: batch(),
			want: http.StatusBadRequest, contains: []string{"1 to 100"}},
		{name: "a batch of 101", method: "POST", path: "/api/v1/messages", token: key, body: batch(hundredOne...),
			want: http.StatusBadRequest, contains: []string{"1 to 100"}},
		{name: "a batch with one bad message", method: "POST", path: "/api/v1/messages", token: key,
			body:     batch(`{"room":"lobby","text":"fine"}`, `{"room":"lobby","text":""}`),
			want:     http.StatusBadRequest,
			contains: []string{"messages[1].text"}},
		{name: "a private message to nobody", method: "POST", path: "/api/v1/conversations/bob/messages", token: key, body: `{"text":"x"}`,
			want: http.StatusNotFound, contains: []string{`\"bob\"`}},
		{name: "a notice to a room that does not exist", method: "POST", path: "/api/v1/notices", token: key,
			body: `{"room":"nowhere","text":"x"}`, want: http.StatusNotFound},
	})
	ac.ExpectNone(100 * time.Millisecond) // nothing of it reached the room
	_, body, _ := do(t, ts, "GET", "/api/v1/rooms/lobby/messages", "", key)
	if strings.Contains(body, `"text":"fine"`) {
		t.Fatalf("a batch refused as a whole stored a message: %s", body)
	}
}
