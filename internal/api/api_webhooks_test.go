package api_test

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testutil"
)

// hookReceiver records the events a webhook endpoint receives, each
// checked against the endpoint's secret as docs/API.md tells a backend to.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	secret string
	events []hookEvent
	forged int
}

type hookEvent struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		var ts, sig string
		for _, part := range strings.Split(r.Header.Get("Parley-Signature"), ",") {
			k, v, _ := strings.Cut(part, "=")
			if k == "t" {
				ts = v
			} else if k == "v1" {
				sig = v
			}
		}
		m := hmac.New(sha256.New, []byte(h.secret))
		m.Write([]byte(ts + "." + string(body)))
		if !hmac.Equal([]byte(sig), []byte(hex.EncodeToString(m.Sum(nil)))) {
			h.forged++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev hookEvent
		if json.Unmarshal(body, &ev) == nil && ev.Type == r.Header.Get("Parley-Event") {
			h.events = append(h.events, ev)
		}
	}))
	t.Cleanup(h.Close)
	return h
}

// of returns the data of every event of type typ received so far.
func (h *hookReceiver) of(typ string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, ev := range h.events {
		if ev.Type == typ {
			out = append(out, string(ev.Data))
		}
	}
	return out
}

// TestWebhooksHearEveryKindOfEvent: an endpoint for "*" hears, signed,
// every kind of event, each with the data a backend needs.
func TestWebhooksHearEveryKindOfEvent(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	root := admin(t, ts)
	hook := newHookReceiver(t)
	status, body, _ := do(t, ts, "POST", "/api/v1/admin/webhooks", `{"url":"`+hook.URL+`/events"}`, root)
	if status != http.StatusCreated {
		t.Fatalf("create webhook = %d %s", status, body)
	}
	created := decodeJSON[struct {
		ID, Secret string
		Events     []string
	}](t, body)
	if len(created.Secret) < 32 || len(created.Events) != 1 || created.Events[0] != "*" {
		t.Fatalf("created %+v, want a generated secret and every event", created)
	}
	hook.mu.Lock()
	hook.secret = created.Secret
	hook.mu.Unlock()

	key := newKey(t, ts, root, "notifier", "publish").Key
	alice, bob := signUp(t, ts, "alice"), signUp(t, ts, "bob")
	ac := dialAs(t, ts, alice.AccessToken)
	ac.Send("join", "j", map[string]any{"room": "team"}) // creates it: alice is its owner
	ac.Expect("joined", "unread")
	do(t, ts, "PUT", "/api/v1/rooms/team/members/"+bob.User.ID, "", alice.AccessToken)
	ac.Send("chat", "c", map[string]any{"room": "team", "text": "first draft"})
	var ack struct {
		MessageID string `json:"message_id"`
	}
	ac.Expect("ack", "room").Decode(t, &ack)
	ac.Send("edit", "e", map[string]any{"room": "team", "message_id": ack.MessageID, "text": "second draft"})
	ac.Expect("ack", "room", "update")
	ac.Send("delete", "d", map[string]any{"room": "team", "message_id": ack.MessageID})
	ac.Expect("ack", "room", "update")
	do(t, ts, "DELETE", "/api/v1/rooms/team/members/"+bob.User.ID, "", alice.AccessToken)
	do(t, ts, "POST", "/api/v1/notifications", `{"user":"`+alice.User.ID+`","title":"hi"}`, key)
	ac.Close()

	want := map[string][]string{
		"user.online":          {`"id":"` + alice.User.ID},
		"member.joined":        {`"room":"team"`, `"user":"` + bob.User.ID, `"by":"` + alice.User.ID},
		"message.created":      {`"text":"first draft"`, `"room":"team"`},
		"message.edited":       {`"text":"second draft"`, `"actor":"` + alice.User.ID},
		"message.deleted":      {`"deleted":true`},
		"member.left":          {`"user":"` + bob.User.ID},
		"notification.created": {`"title":"hi"`, `"recipients":1`},
		"user.offline":         {`"id":"` + alice.User.ID},
	}
	for typ, parts := range want {
		testutil.Eventually(t, testutil.DefaultWait, func() bool {
			for _, data := range hook.of(typ) {
				ok := true
				for _, p := range parts {
					ok = ok && strings.Contains(data, p)
				}
				if ok {
					return true
				}
			}
			return false
		}, "no %s event with %v (got %v)", typ, parts, hook.of(typ))
	}
	if hook.forged != 0 {
		t.Fatalf("%d requests failed the signature check", hook.forged)
	}
	if owner := hook.of("member.joined"); !strings.Contains(strings.Join(owner, " "), `"role":"owner"`) {
		t.Fatalf("the room's creation is no member.joined of its owner: %v", owner)
	}
}

// TestWebhookEndpointsAreManagedByAdministrators: who may configure them,
// and what is refused.
func TestWebhookEndpointsAreManagedByAdministrators(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	root := admin(t, ts)
	alice := signUp(t, ts, "alice")
	self := strings.Replace(ts.URL, "127.0.0.1", "localhost", 1)
	runScenarios(t, ts, []scenario{
		{name: "a user", method: "POST", path: "/api/v1/admin/webhooks", token: alice.AccessToken,
			body: `{"url":"https://hooks.example/x"}`, want: http.StatusForbidden},
		{name: "not http", method: "POST", path: "/api/v1/admin/webhooks", token: root,
			body: `{"url":"ftp://hooks.example/x"}`, want: http.StatusBadRequest, contains: []string{"http or https"}},
		{name: "relative", method: "POST", path: "/api/v1/admin/webhooks", token: root,
			body: `{"url":"/x"}`, want: http.StatusBadRequest},
		{name: "the server itself", method: "POST", path: "/api/v1/admin/webhooks", token: root,
			body: `{"url":"` + ts.URL + `/api/v1/notices"}`, want: http.StatusBadRequest, contains: []string{"this server itself"}},
		{name: "the server itself by name", method: "POST", path: "/api/v1/admin/webhooks", token: root,
			body: `{"url":"` + self + `/x"}`, want: http.StatusBadRequest, contains: []string{"this server itself"}},
		{name: "an unknown event", method: "POST", path: "/api/v1/admin/webhooks", token: root,
			body: `{"url":"https://hooks.example/x","events":["message.created","user.born"]}`, want: http.StatusBadRequest,
			contains: []string{`events[1]`, `user.born`}},
		{name: "a short secret", method: "POST", path: "/api/v1/admin/webhooks", token: root,
			body: `{"url":"https://hooks.example/x","secret":"short"}`, want: http.StatusBadRequest},
		{name: "a good one", method: "POST", path: "/api/v1/admin/webhooks", token: root,
			body: `{"url":"https://hooks.example/x","events":["message.created"],"secret":"0123456789abcdef"}`, want: http.StatusCreated,
			contains: []string{`"secret":"0123456789abcdef"`, `"events":["message.created"]`}},
		{name: "listed without its secret", method: "GET", path: "/api/v1/admin/webhooks", token: root,
			want: http.StatusOK, contains: []string{`"url":"https://hooks.example/x"`}, notContains: []string{"0123456789abcdef"}},
		{name: "delete one that does not exist", method: "DELETE", path: "/api/v1/admin/webhooks/nope", token: root,
			want: http.StatusNotFound},
	})
}

// TestNodeWebhookReceiverExample: the receiver docs/API.md points to
// accepts Parley's signed events and refuses unsigned ones, so its
// verification code is right as printed.
func TestNodeWebhookReceiverExample(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; docs/examples/webhook-receiver.mjs is not tested")
	}
	const secret = "an example secret of the docs"
	cmd := exec.Command(node, "../../docs/examples/webhook-receiver.mjs")
	cmd.Env = append(os.Environ(), "PARLEY_WEBHOOK_SECRET="+secret)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func() string {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the receiver ended")
			}
			return l
		case <-time.After(testutil.DefaultWait):
			t.Fatal("the receiver printed nothing")
		}
		return ""
	}
	url, ok := strings.CutPrefix(next(), "listening on ")
	if !ok {
		t.Fatalf("the receiver did not say where it listens")
	}

	resp, err := http.Post(url, "application/json", strings.NewReader(`{"id":"forged","type":"message.created"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an unsigned request got %d, want 401", resp.StatusCode)
	}

	ts := testutil.StartServer(t, nil)
	root := admin(t, ts)
	if status, body, _ := do(t, ts, "POST", "/api/v1/admin/webhooks",
		`{"url":"`+url+`","events":["message.created"],"secret":"`+secret+`"}`, root); status != http.StatusCreated {
		t.Fatalf("create webhook = %d %s", status, body)
	}
	key := newKey(t, ts, root, "backend", "publish").Key
	do(t, ts, "POST", "/api/v1/rooms", `{"name":"lobby"}`, root)
	if status, body, _ := do(t, ts, "POST", "/api/v1/rooms/lobby/messages", `{"text":"to the backend"}`, key); status != http.StatusCreated {
		t.Fatalf("publish = %d %s", status, body)
	}
	var ev struct {
		Type string `json:"type"`
		Data struct {
			Message struct{ Text string } `json:"message"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(next()), &ev); err != nil || ev.Type != "message.created" || ev.Data.Message.Text != "to the backend" {
		t.Fatalf("the receiver printed %+v (%v), want the message", ev, err)
	}
}
