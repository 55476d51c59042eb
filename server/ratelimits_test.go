package server_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

// TestUserFloodFrom16ConnectionsIsLimitedPerUser has one guest flood a room
// from 16 connections, each within its own connection's burst: the
// messages stored stay within the user's budget (burst + rate × time),
// the rest are refused with rate_limited and a retry hint, and another
// user in the same room (from the same address) is served throughout.
func TestUserFloodFrom16ConnectionsIsLimitedPerUser(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.MaxConnsPerUser = 16
		// The defaults: 10 a second with a burst of 30 for the user,
		// 10/20 for each connection.
	})
	cfg := ts.Config
	flooder := connect(t, ts, "flooder", "r")
	conns := []*testutil.Client{flooder}
	for len(conns) < 16 {
		conns = append(conns, again(t, ts, flooder, "r"))
	}
	quiet := connect(t, ts, "quiet", "r")

	// Each connection's own burst, less the token its join took: alone,
	// no frame would be refused.
	perConn := cfg.RateBurst - 1
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	acks, limited := 0, 0
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perConn {
				c.Send("chat", "f"+strconv.Itoa(i)+"-"+strconv.Itoa(j), map[string]any{"room": "r", "text": "flood"})
			}
			for range perConn {
				f := reply(c)
				mu.Lock()
				switch f.Type {
				case "ack":
					acks++
				case "error":
					var e errorBody
					f.Decode(t, &e)
					if e.Code != "rate_limited" || e.RetryAfterMS <= 0 || !strings.Contains(e.Message, "across your connections") {
						t.Errorf("flood error %s, want rate_limited per user with retry_after_ms", f.Raw)
					}
					limited++
				}
				mu.Unlock()
			}
		}()
	}
	// The quiet user is served while the flood goes on.
	quiet.Send("chat", "q1", map[string]any{"room": "r", "text": "still here"})
	if f := reply(quiet); f.ID != "q1" || f.Type != "ack" {
		t.Fatalf("quiet user's reply %s", f.Raw)
	}
	wg.Wait()
	elapsed := time.Since(start)
	budget := cfg.UserRateBurst + int(cfg.UserRateMessages*elapsed.Seconds()) + 1
	t.Logf("16 connections sent %d frames in %v: %d stored, %d rate_limited (budget %d)",
		16*perConn, elapsed.Round(time.Millisecond), acks, limited, budget)
	if acks > budget {
		t.Fatalf("%d messages stored in %v, above the user's budget of %d", acks, elapsed, budget)
	}
	if limited == 0 || acks+limited != 16*perConn {
		t.Fatalf("%d stored + %d limited, want all %d answered and some limited", acks, limited, 16*perConn)
	}
	if n := metric(t, ts, `parley_rate_limited_total{limit="user_messages"}`); n != float64(limited) {
		t.Fatalf("parley_rate_limited_total{limit=\"user_messages\"} = %v, want %d", n, limited)
	}
	// The quiet user's own budget is untouched by the flood.
	for i := range 5 {
		quiet.Send("chat", "q"+strconv.Itoa(i+2), map[string]any{"room": "r", "text": "hello"})
		if f := reply(quiet); f.Type != "ack" {
			t.Fatalf("quiet user refused after the flood: %s", f.Raw)
		}
	}
}

// TestAddressRateCountsEveryUserOfOneAddress has two users on one address
// share its message budget.
func TestAddressRateCountsEveryUserOfOneAddress(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.AddressRateMessages, c.AddressRateBurst = 0.1, 3
	})
	a := connect(t, ts, "alice", "r")
	b := connect(t, ts, "bob", "r")
	for i := range 3 {
		a.Send("chat", "a"+strconv.Itoa(i), map[string]any{"room": "r", "text": "hi"})
		if f := reply(a); f.Type != "ack" {
			t.Fatalf("first user's message %d: %s", i+1, f.Raw)
		}
	}
	b.Send("chat", "b1", map[string]any{"room": "r", "text": "hi"})
	f := reply(b)
	var e errorBody
	if f.Type == "error" {
		f.Decode(t, &e)
	}
	if e.Code != "rate_limited" || e.RetryAfterMS <= 0 || !strings.Contains(e.Message, "network address") {
		t.Fatalf("second user on the address got %s, want rate_limited for the address", f.Raw)
	}
	if n := metric(t, ts, `parley_rate_limited_total{limit="address_messages"}`); n != 1 {
		t.Fatalf("address_messages refusals = %v, want 1", n)
	}
}

// TestJoinsAreLimitedPerUserAcrossConnections has one user join from two
// connections: the second connection gets no fresh budget.
func TestJoinsAreLimitedPerUserAcrossConnections(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.UserRateJoins, c.UserRateJoinBurst = 0.1, 3
	})
	a := connect(t, ts, "joiner", "")
	b := again(t, ts, a, "")
	join(t, a, "r1")
	join(t, a, "r2")
	join(t, b, "r3")
	b.Send("join", "j4", map[string]any{"room": "r4"})
	f := reply(b)
	var e errorBody
	if f.Type == "error" {
		f.Decode(t, &e)
	}
	if e.Code != "rate_limited" || e.RetryAfterMS <= 0 || f.ID != "j4" {
		t.Fatalf("fourth join of the user got %s, want rate_limited", f.Raw)
	}
	// The join in the path of a new connection counts too.
	c := ts.DialAgain(t, "/ws/r5", a)
	if f := reply(c); f.Type != "error" || f.ID != "" || !strings.Contains(string(f.Raw), "rate_limited") {
		t.Fatalf("the path's join of a new connection got %s, want rate_limited", f.Raw)
	}
	other := connect(t, ts, "other", "")
	join(t, other, "r4") // another user (on the same address) still joins
}

// TestRoomCreationIsLimitedPerUser lets a user create RoomCreateRate rooms
// and refuses the next with a retry hint, while existing rooms stay open
// to join.
func TestRoomCreationIsLimitedPerUser(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) { c.RoomCreateRate = 2 })
	c := connect(t, ts, "maker", "")
	join(t, c, "new1")
	join(t, c, "new2")
	c.Send("join", "j3", map[string]any{"room": "new3"})
	f := reply(c)
	var e errorBody
	if f.Type == "error" {
		f.Decode(t, &e)
	}
	// 2 a minute: the next token is about 30 s away.
	if e.Code != "rate_limited" || e.RetryAfterMS < 20_000 || e.RetryAfterMS > 31_000 || !strings.Contains(e.Message, "creating rooms") {
		t.Fatalf("third new room got %s, want rate_limited with a retry of about 30 s", f.Raw)
	}
	other := connect(t, ts, "visitor", "")
	join(t, other, "new1")
	join(t, c, "new1") // joining a room that exists is no creation (already in: rejoin)
	if n := metric(t, ts, `parley_rate_limited_total{limit="user_room_creations"}`); n != 1 {
		t.Fatalf("user_room_creations refusals = %v, want 1", n)
	}
}

// reply returns the next frame that answers a request (an ack, a joined,
// an error), skipping the room's traffic.
func reply(c *testutil.Client) testutil.Frame {
	for {
		f := c.Next()
		switch f.Type {
		case "message", "presence", "presence_diff", "typing":
			continue
		}
		return f
	}
}

// metric reads one sample from the server's /metrics; 0 when absent.
func metric(t *testing.T, ts *testutil.TestServer, name string) float64 {
	t.Helper()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return n
		}
	}
	return 0
}

// TestRoomCreationOverTheAPIIsLimitedWith429 shares the per-user budget of
// room creation with the API, which answers 429 with a Retry-After.
func TestRoomCreationOverTheAPIIsLimitedWith429(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) { c.RoomCreateRate = 1 })
	_, token := register(t, ts, "builder")
	if status, body := call(t, "POST", ts.URL+"/api/v1/rooms", token, `{"name":"first"}`); status != http.StatusCreated {
		t.Fatalf("first room: %d %s", status, body)
	}
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/rooms", strings.NewReader(`{"name":"second"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error errorBody `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if retry, _ := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode != http.StatusTooManyRequests ||
		retry < 50 || retry > 60 || e.Error.Code != "rate_limited" {
		t.Fatalf("second room: %d, Retry-After %q, %+v; want 429 rate_limited with about 60 s",
			resp.StatusCode, resp.Header.Get("Retry-After"), e.Error)
	}
}
