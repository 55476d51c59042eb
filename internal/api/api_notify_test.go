package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testutil"
)

type notificationJSON struct {
	ID    string          `json:"id"`
	Topic string          `json:"topic"`
	Title string          `json:"title"`
	Body  string          `json:"body"`
	Data  json.RawMessage `json:"data"`
	Link  string          `json:"link"`
	Read  bool            `json:"read"`
}

type notificationsJSON struct {
	Notifications []notificationJSON `json:"notifications"`
	Unread        int                `json:"unread"`
}

// notifySetup is a server with a key that publishes and the named users,
// signed up.
func notifySetup(t *testing.T, names ...string) (*testutil.TestServer, string, map[string]tokens) {
	t.Helper()
	ts := testutil.StartServer(t, nil)
	key := newKey(t, ts, admin(t, ts), "notifier", "publish").Key
	users := map[string]tokens{}
	for _, n := range names {
		users[n] = signUp(t, ts, n)
	}
	return ts, key, users
}

func subscribe(t *testing.T, ts *testutil.TestServer, token, pattern string) {
	t.Helper()
	if status, body, _ := do(t, ts, "PUT", "/api/v1/subscriptions/"+url.PathEscape(pattern), "", token); status != http.StatusNoContent {
		t.Fatalf("subscribe to %s = %d %s", pattern, status, body)
	}
}

func notificationsOf(t *testing.T, ts *testutil.TestServer, token string) notificationsJSON {
	t.Helper()
	status, body, _ := do(t, ts, "GET", "/api/v1/notifications", "", token)
	if status != http.StatusOK {
		t.Fatalf("list notifications = %d %s", status, body)
	}
	return decodeJSON[notificationsJSON](t, body)
}

// TestWildcardSubscriptionsMatchExactlyWhatTheyShould: one notification a
// topic, and each user finds in their list exactly those whose topic
// their patterns match; a topic nobody's pattern matches stores nothing.
func TestWildcardSubscriptionsMatchExactlyWhatTheyShould(t *testing.T) {
	patterns := map[string]string{"ann": "orders.*", "bob": "orders.>", "cat": "*.42", "dan": "orders.42", "eve": "deploys.>"}
	ts, key, users := notifySetup(t, "ann", "bob", "cat", "dan", "eve")
	for name, p := range patterns {
		subscribe(t, ts, users[name].AccessToken, p)
	}
	tests := []struct {
		topic string
		want  []string
	}{
		{"orders.42", []string{"ann", "bob", "cat", "dan"}},
		{"orders.43", []string{"ann", "bob"}},
		{"orders.42.paid", []string{"bob"}},
		{"invoices.42", []string{"cat"}},
		{"deploys.prod.eu-1", []string{"eve"}},
		{"deploys", nil},
		{"orders", nil},
	}
	got := map[string][]string{} // user -> topics received
	for _, tc := range tests {
		status, body, _ := do(t, ts, "POST", "/api/v1/notifications",
			`{"topic":"`+tc.topic+`","title":"about `+tc.topic+`"}`, key)
		if tc.want == nil {
			if status != http.StatusNotFound || !strings.Contains(body, "nobody subscribes") {
				t.Errorf("%s: %d %s, want 404 nobody subscribes", tc.topic, status, body)
			}
			continue
		}
		var created struct{ Recipients int }
		if err := json.Unmarshal([]byte(body), &created); err != nil || status != http.StatusCreated || created.Recipients != len(tc.want) {
			t.Errorf("%s: %d %s, want 201 for %d recipients", tc.topic, status, body, len(tc.want))
		}
		for _, u := range tc.want {
			got[u] = append(got[u], tc.topic)
		}
	}
	for name := range patterns {
		var topics []string
		for _, n := range notificationsOf(t, ts, users[name].AccessToken).Notifications {
			topics = append(topics, n.Topic)
		}
		slices.Sort(topics)
		want := slices.Clone(got[name])
		slices.Sort(want)
		if !slices.Equal(topics, want) {
			t.Errorf("%s (%s) has %v, want %v", name, patterns[name], topics, want)
		}
	}
}

// TestNotificationsLiveAndOnConnect: a connected subscriber gets the
// notification at once; one who is offline gets it with the unread ones
// after the welcome of their next connection; read state is the same on
// every device.
func TestNotificationsLiveAndOnConnect(t *testing.T) {
	ts, key, users := notifySetup(t, "ann", "bob")
	ann, bob := users["ann"], users["bob"]
	// ann subscribes over the WebSocket, on one of her two devices.
	phone, laptop := dialAs(t, ts, ann.AccessToken), dialAs(t, ts, ann.AccessToken)
	phone.Send("subscribe", "s1", map[string]any{"topic": "orders.*"})
	if f := phone.Expect("subscribed", "unread"); f.ID != "s1" || !strings.Contains(string(f.Body), `"topic":"orders.*"`) {
		t.Fatalf("subscribe reply %s", f.Raw)
	}
	subscribe(t, ts, bob.AccessToken, "orders.>") // bob, over HTTP, offline

	status, body, h := do(t, ts, "POST", "/api/v1/notifications",
		`{"topic":"orders.42","title":"Order 42 shipped","body":"It left the warehouse.","data":{"order":42},"link":"https://shop.example/o/42"}`, key)
	if status != http.StatusCreated {
		t.Fatalf("publish = %d %s", status, body)
	}
	if loc := h.Get("Location"); loc != "" {
		t.Fatalf("publish answered Location %q, but no route serves one notification", loc)
	}
	id := decodeJSON[struct{ ID string }](t, body).ID
	for name, c := range map[string]*testutil.Client{"phone": phone, "laptop": laptop} {
		var n notificationJSON
		c.Expect("notification", "unread").Decode(t, &n)
		if n.ID != id || n.Topic != "orders.42" || n.Title != "Order 42 shipped" || n.Body != "It left the warehouse." ||
			string(n.Data) != `{"order":42}` || n.Link != "https://shop.example/o/42" || n.Read {
			t.Fatalf("%s got %+v", name, n)
		}
	}

	// bob connects later: the notification waits for him.
	bc := dialAs(t, ts, bob.AccessToken)
	var waiting notificationsJSON
	bc.Expect("notifications", "unread").Decode(t, &waiting)
	if waiting.Unread != 1 || len(waiting.Notifications) != 1 || waiting.Notifications[0].ID != id {
		t.Fatalf("bob's notifications on connecting = %+v", waiting)
	}

	// ann reads it on her phone; her laptop is told.
	phone.Send("notifications_read", "r1", map[string]any{"ids": []string{id}})
	var read struct {
		IDs    []string `json:"ids"`
		Unread int      `json:"unread"`
	}
	phone.Expect("notifications_read", "unread").Decode(t, &read)
	if read.Unread != 0 || !slices.Equal(read.IDs, []string{id}) {
		t.Fatalf("phone's read reply %+v", read)
	}
	if f := laptop.Expect("notifications_read", "unread"); f.ID != "" || !strings.Contains(string(f.Body), `"unread":0`) {
		t.Fatalf("laptop got %s, want the news that all are read", f.Raw)
	}
	if l := notificationsOf(t, ts, ann.AccessToken); l.Unread != 0 || !l.Notifications[0].Read {
		t.Fatalf("ann's list after reading = %+v", l)
	}
	if l := notificationsOf(t, ts, bob.AccessToken); l.Unread != 1 {
		t.Fatalf("bob's unread changed with ann's reading: %+v", l)
	}

	// A reconnecting ann gets no notifications frame: none is unread.
	again := dialAs(t, ts, ann.AccessToken)
	again.Send("ping", "p", nil)
	again.Expect("pong", "unread")

	// bob marks all read over HTTP; his connection is told.
	status, body, _ = do(t, ts, "POST", "/api/v1/notifications/read", `{"all":true}`, bob.AccessToken)
	if status != http.StatusOK || !strings.Contains(body, `"changed":1`) || !strings.Contains(body, `"unread":0`) {
		t.Fatalf("bob marks all read = %d %s", status, body)
	}
	bc.Expect("notifications_read")

	// Unsubscribed, ann gets no more.
	phone.Send("unsubscribe", "u1", map[string]any{"topic": "orders.*"})
	phone.Expect("unsubscribed")
	do(t, ts, "POST", "/api/v1/notifications", `{"topic":"orders.43","title":"Order 43"}`, key)
	bc.Expect("notification")
	phone.ExpectNone(100*time.Millisecond, "unread")
}

// TestNotificationsToAUserAndToEveryone: a notification to one user, to
// everyone, and paging through many.
func TestNotificationsToAUserAndToEveryone(t *testing.T) {
	ts, key, users := notifySetup(t, "ann", "bob")
	ann := users["ann"]
	do(t, ts, "POST", "/api/v1/notifications", `{"user":"`+ann.User.ID+`","title":"just for ann"}`, key)
	status, body, _ := do(t, ts, "POST", "/api/v1/notifications", `{"everyone":true,"title":"for all"}`, key)
	// root (the admin), ann and bob.
	if status != http.StatusCreated || !strings.Contains(body, `"recipients":3`) {
		t.Fatalf("to everyone = %d %s", status, body)
	}
	if l := notificationsOf(t, ts, ann.AccessToken); len(l.Notifications) != 2 || l.Notifications[0].Title != "for all" {
		t.Fatalf("ann's notifications = %+v, want both, newest first", l)
	}
	if l := notificationsOf(t, ts, users["bob"].AccessToken); len(l.Notifications) != 1 {
		t.Fatalf("bob's notifications = %+v, want only the one for all", l)
	}
	for i := range 5 {
		do(t, ts, "POST", "/api/v1/notifications", fmt.Sprintf(`{"user":%q,"title":"n%d"}`, ann.User.ID, i), key)
	}
	_, body, _ = do(t, ts, "GET", "/api/v1/notifications?limit=3", "", ann.AccessToken)
	page := decodeJSON[notificationsJSON](t, body)
	if len(page.Notifications) != 3 || page.Notifications[0].Title != "n4" || page.Unread != 7 {
		t.Fatalf("first page = %+v", page)
	}
	_, body, _ = do(t, ts, "GET", "/api/v1/notifications?limit=3&before="+page.Notifications[2].ID, "", ann.AccessToken)
	next := decodeJSON[notificationsJSON](t, body)
	if len(next.Notifications) != 3 || next.Notifications[0].Title != "n1" {
		t.Fatalf("second page = %+v", next)
	}
}

// TestNotificationsRefuseBadInput: every refusal names its field and
// stores nothing; guests have no notifications.
func TestNotificationsRefuseBadInput(t *testing.T) {
	ts, key, users := notifySetup(t, "ann")
	ann := users["ann"]
	subscribe(t, ts, ann.AccessToken, "orders.*")
	guest := ts.Dial(t, "/ws?name=visitor")
	guest.Welcome()
	post := func(body string) scenario {
		return scenario{method: "POST", path: "/api/v1/notifications", token: key, body: body, want: http.StatusBadRequest}
	}
	cases := []scenario{
		post(`{"title":"no target"}`),
		post(`{"topic":"orders.1","user":"` + ann.User.ID + `","title":"two targets"}`),
		post(`{"topic":"orders.*","title":"a wildcard topic"}`),
		post(`{"topic":"orders.1"}`),
		post(`{"topic":"orders.1","title":"` + strings.Repeat("t", 201) + `"}`),
		post(`{"topic":"orders.1","title":"x","data":[1,2]}`),
		post(`{"topic":"orders.1","title":"x","link":"javascript:alert(1)"}`),
		post(`{"user":"` + guest.Welcomed.User.ID + `","title":"x"}`),
		{name: "to nobody", method: "POST", path: "/api/v1/notifications", token: key,
			body: `{"user":"u_nobody","title":"x"}`, want: http.StatusNotFound},
		{name: "by a user", method: "POST", path: "/api/v1/notifications", token: ann.AccessToken,
			body: `{"topic":"orders.1","title":"x"}`, want: http.StatusForbidden},
		{name: "subscribe to a bad pattern", method: "PUT", path: "/api/v1/subscriptions/orders..x", token: ann.AccessToken,
			want: http.StatusBadRequest},
		{name: "unsubscribe from what is not subscribed", method: "DELETE", path: "/api/v1/subscriptions/nope", token: ann.AccessToken,
			want: http.StatusNotFound},
		{name: "read neither ids nor all", method: "POST", path: "/api/v1/notifications/read", token: ann.AccessToken,
			body: `{}`, want: http.StatusBadRequest},
		{name: "subscriptions as listed", method: "GET", path: "/api/v1/subscriptions", token: ann.AccessToken,
			want: http.StatusOK, contains: []string{`"subscriptions":["orders.*"]`}},
	}
	for i := range cases {
		if cases[i].name == "" {
			cases[i].name = cases[i].body
		}
	}
	runScenarios(t, ts, cases)
	if l := notificationsOf(t, ts, ann.AccessToken); len(l.Notifications) != 0 {
		t.Fatalf("refused notifications were stored: %+v", l)
	}
	guest.Send("subscribe", "s", map[string]any{"topic": "orders.*"})
	var e struct{ Code string }
	guest.Expect("error").Decode(t, &e)
	if e.Code != "forbidden" {
		t.Fatalf("a guest subscribing: %+v", e)
	}
}
