package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parley-chat/parley/internal/event"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/webhook"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// received is one request an endpoint got.
type received struct {
	eventID, event, delivery string
	body                     []byte
	signed                   bool
}

// receiver is a webhook endpoint for tests: it checks each request's
// signature the way docs/API.md tells a backend to, and answers with what
// answer says for the nth request.
type receiver struct {
	*httptest.Server
	secret string
	mu     sync.Mutex
	got    []received
	answer func(n int) int
	hang   chan struct{} // when set, requests wait for it to close
}

func newReceiver(t *testing.T, secret string, answer func(n int) int) *receiver {
	rv := &receiver{secret: secret, answer: answer}
	rv.Server = httptest.NewServer(http.HandlerFunc(rv.serve))
	t.Cleanup(rv.Close)
	return rv
}

func (rv *receiver) serve(w http.ResponseWriter, r *http.Request) {
	if rv.hang != nil {
		select {
		case <-rv.hang:
		case <-r.Context().Done():
			return
		}
	}
	body, _ := io.ReadAll(r.Body)
	rv.mu.Lock()
	n := len(rv.got)
	rv.got = append(rv.got, received{eventID: r.Header.Get("Parley-Event-Id"), event: r.Header.Get("Parley-Event"),
		delivery: r.Header.Get("Parley-Delivery"), body: body, signed: verify(rv.secret, r.Header.Get("Parley-Signature"), body)})
	rv.mu.Unlock()
	status := http.StatusOK
	if rv.answer != nil {
		status = rv.answer(n)
	}
	w.WriteHeader(status)
}

// verify checks a Parley-Signature header as a backend would: the HMAC
// of "t.body", compared in constant time, with a timestamp near now.
func verify(secret, header string, body []byte) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := hex.EncodeToString(m.Sum(nil))
	return ts != "" && hmac.Equal([]byte(sig), []byte(want))
}

func (rv *receiver) requests() []received {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]received(nil), rv.got...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type counts struct {
	delivered, retried, abandoned, dropped atomic.Int32
}

func (c *counts) WebhookDelivered(time.Duration) { c.delivered.Add(1) }
func (c *counts) WebhookFailed(abandoned bool) {
	if abandoned {
		c.abandoned.Add(1)
	} else {
		c.retried.Add(1)
	}
}
func (c *counts) WebhookDropped() { c.dropped.Add(1) }

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// setup opens a store with the given endpoints and a service over it.
func setup(t *testing.T, cfg webhook.Config, hooks ...store.Webhook) (*webhook.Service, *counts, store.Store) {
	t.Helper()
	st := openStore(t, filepath.Join(t.TempDir(), "parley.db"))
	t.Cleanup(func() { st.Close() })
	for _, h := range hooks {
		if err := st.CreateWebhook(context.Background(), h); err != nil {
			t.Fatal(err)
		}
	}
	m := &counts{}
	s, err := webhook.New(context.Background(), cfg, st, nil, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, m, st
}

// TestEventsArriveSignedAndFiltered: each endpoint gets the events it asked
// for, once each, signed with its secret, with the event's type and id in
// the headers and the body.
func TestEventsArriveSignedAndFiltered(t *testing.T) {
	all := newReceiver(t, "secret-of-all-0123", nil)
	some := newReceiver(t, "secret-of-some-012", nil)
	s, m, _ := setup(t, webhook.Config{},
		store.Webhook{ID: "all", URL: all.URL, Secret: all.secret, Events: []string{"*"}},
		store.Webhook{ID: "some", URL: some.URL, Secret: some.secret, Events: []string{event.UserOnline}})
	if !s.Wants(event.MessageCreated) || !s.Wants(event.UserOnline) {
		t.Fatal("the service does not want the events its endpoints ask for")
	}
	s.Emit(event.MessageCreated, map[string]string{"text": "hello"})
	s.Emit(event.UserOnline, map[string]string{"user": "ann"})
	waitFor(t, "two events at the endpoint for all, one at the other", func() bool {
		return len(all.requests()) == 2 && len(some.requests()) == 1 && m.delivered.Load() == 3
	})
	for _, r := range append(all.requests(), some.requests()...) {
		var body struct {
			ID, Type  string
			CreatedAt string `json:"created_at"`
			Data      map[string]string
		}
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		if !r.signed || body.ID != r.eventID || body.Type != r.event || body.CreatedAt == "" || r.delivery == "" {
			t.Fatalf("request %+v, body %+v: want signed, with matching headers", r, body)
		}
	}
	if got := some.requests()[0]; got.event != event.UserOnline {
		t.Fatalf("the user.online endpoint got %s", got.event)
	}
	// An endpoint has two requests in flight, so its events may arrive in
	// either order.
	for _, r := range all.requests() {
		if r.event == event.UserOnline && r.eventID != some.requests()[0].eventID {
			t.Fatal("one event has two ids at two endpoints")
		}
	}
}

// TestFailuresAreRetriedWithBackoff: an endpoint that fails twice gets the
// same event a third time, and it counts as delivered once.
func TestFailuresAreRetriedWithBackoff(t *testing.T) {
	rv := newReceiver(t, "0123456789abcdef", func(n int) int {
		if n < 2 {
			return http.StatusBadGateway
		}
		return http.StatusNoContent
	})
	s, m, _ := setup(t, webhook.Config{RetryMin: 20 * time.Millisecond, Poll: 10 * time.Millisecond},
		store.Webhook{ID: "w", URL: rv.URL, Secret: rv.secret, Events: []string{"*"}})
	s.Emit(event.MessageCreated, "x")
	waitFor(t, "a delivery after two failures", func() bool { return m.delivered.Load() == 1 })
	got := rv.requests()
	if len(got) != 3 || got[0].eventID != got[2].eventID || got[0].delivery != got[2].delivery || m.retried.Load() != 2 {
		t.Fatalf("%d requests (%d retried); want 3 of one delivery", len(got), m.retried.Load())
	}
}

// TestAnEventIsGivenUp: an endpoint that never answers 2xx is tried for
// RetryFor, then the event is given up and counted.
func TestAnEventIsGivenUp(t *testing.T) {
	rv := newReceiver(t, "0123456789abcdef", func(int) int { return http.StatusInternalServerError })
	s, m, st := setup(t, webhook.Config{RetryMin: 20 * time.Millisecond, RetryFor: time.Second, Poll: 10 * time.Millisecond},
		store.Webhook{ID: "w", URL: rv.URL, Secret: rv.secret, Events: []string{"*"}})
	s.Emit(event.MessageCreated, "x")
	waitFor(t, "the event given up", func() bool { return m.abandoned.Load() == 1 })
	if n := len(rv.requests()); n < 2 {
		t.Fatalf("given up after %d attempts", n)
	}
	// The count may come a moment before the outbox row goes.
	waitFor(t, "the outbox emptied of the given-up delivery", func() bool {
		due, err := st.DueWebhookDeliveries(context.Background(), "w", time.Now().Add(time.Hour), 10)
		if err != nil {
			t.Fatalf("read the outbox: %v", err)
		}
		return len(due) == 0
	})
}

// TestASlowEndpointHoldsOnlyItsShare: an endpoint that never answers keeps
// at most its two requests; another endpoint gets every event meanwhile.
func TestASlowEndpointHoldsOnlyItsShare(t *testing.T) {
	slow := newReceiver(t, "0123456789abcdef", nil)
	slow.hang = make(chan struct{})
	defer close(slow.hang)
	fast := newReceiver(t, "fedcba9876543210", nil)
	s, _, _ := setup(t, webhook.Config{Workers: 4, Timeout: time.Minute, Poll: 10 * time.Millisecond},
		store.Webhook{ID: "slow", URL: slow.URL, Secret: slow.secret, Events: []string{"*"}},
		store.Webhook{ID: "fast", URL: fast.URL, Secret: fast.secret, Events: []string{"*"}})
	for range 50 {
		s.Emit(event.MessageCreated, "x")
	}
	waitFor(t, "50 events at the fast endpoint", func() bool { return len(fast.requests()) >= 50 })
	time.Sleep(50 * time.Millisecond) // a few more polls: a delivery sent twice would show
	if n := len(fast.requests()); n != 50 {
		t.Fatalf("the fast endpoint got %d requests for 50 events", n)
	}
}

// TestCloseKeepsQueuedEvents: events emitted just before Close are written
// to the outbox, and a service started again on the store delivers them.
func TestCloseKeepsQueuedEvents(t *testing.T) {
	rv := newReceiver(t, "0123456789abcdef", nil)
	path := filepath.Join(t.TempDir(), "parley.db")
	st := openStore(t, path)
	if err := st.CreateWebhook(context.Background(), store.Webhook{ID: "w", URL: rv.URL, Secret: rv.secret, Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	s, err := webhook.New(context.Background(), webhook.Config{Poll: time.Hour}, st, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		s.Emit(event.UserOffline, "x")
	}
	s.Close()
	st.Close()

	st = openStore(t, path)
	defer st.Close()
	again, err := webhook.New(context.Background(), webhook.Config{Poll: 10 * time.Millisecond}, st, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	waitFor(t, "the five events after the restart", func() bool { return len(rv.requests()) == 5 })
}
