package server_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

// TestBadInputGetsAnErrorAndTheConnectionSurvives sends each kind of bad
// frame and checks the documented error code, then proves the connection is
// still usable with a ping.
func TestBadInputGetsAnErrorAndTheConnectionSurvives(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.MaxRoomsPerConn = 2
		c.MaxMessageLength = 10
		c.RateBurst = 1000
	})
	cases := []struct {
		name  string
		frame string
		code  string
		id    string
		says  string // a part of the message, when it matters
	}{
		{"malformed JSON", `{"type":"chat","id":"x1",`, "bad_frame", "", ""},
		{"not an object", `[1,2,3]`, "bad_frame", "", ""},
		{"JSON string", `"hello"`, "bad_frame", "", ""},
		{"missing type", `{"id":"x2","body":{}}`, "invalid", "x2", ""},
		{"unknown type", `{"type":"dance","id":"x3"}`, "unknown_type", "x3", ""},
		{"join without body", `{"type":"join","id":"x4"}`, "invalid", "x4", ""},
		{"join with a numeric room", `{"type":"join","id":"x5","body":{"room":5}}`, "invalid", "x5", ""},
		{"join with a bad room name", `{"type":"join","id":"x6","body":{"room":"no spaces!"}}`, "invalid_room", "x6", ""},
		{"join a reserved name", `{"type":"join","id":"x7","body":{"room":"@a+b"}}`, "invalid_room", "x7", ""},
		{"chat without room", `{"type":"chat","id":"x8","body":{"text":"hi"}}`, "invalid_room", "x8", ""},
		{"chat without text", `{"type":"chat","id":"x9","body":{"room":"a"}}`, "invalid", "x9", "text is required"},
		{"chat with only white space", `{"type":"chat","id":"x9b","body":{"room":"a","text":" \t\n "}}`, "invalid", "x9b", "only white space"},
		{"chat too long", `{"type":"chat","id":"x10","body":{"room":"a","text":"12345678901"}}`, "too_long", "x10", ""},
		{"chat to a room not joined", `{"type":"chat","id":"x11","body":{"room":"nowhere","text":"hi"}}`, "not_joined", "x11", ""},
		{"typing with a bad state", `{"type":"typing","id":"x12","body":{"room":"a","state":"maybe"}}`, "invalid", "x12", ""},
		{"body not an object", `{"type":"chat","id":"x13","body":"hi"}`, "invalid", "x13", ""},
		{"id too long", `{"type":"ping","id":"` + strings.Repeat("i", 65) + `"}`, "invalid", "", ""},
		{"auth again", `{"type":"auth","id":"x14","body":{"token":"nope"}}`, "unauthorized", "x14", ""},
		{"private without to", `{"type":"private","id":"x15","body":{"text":"hi"}}`, "invalid", "x15", ""},
		{"history with a bad limit", `{"type":"history","id":"x16","body":{"room":"a","limit":5000}}`, "invalid", "x16", ""},
	}
	c := connect(t, ts, "alice", "")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.SendRaw(websocket.TextMessage, []byte(tc.frame))
			f := c.Expect("error")
			var e errorBody
			f.Decode(t, &e)
			if e.Code != tc.code || e.Message == "" || !strings.Contains(e.Message, tc.says) {
				t.Fatalf("error = %+v, want code %s with a message saying %q", e, tc.code, tc.says)
			}
			if f.ID != tc.id {
				t.Fatalf("error id = %q, want %q", f.ID, tc.id)
			}
			c.Send("ping", "alive", nil)
			if p := c.Expect("pong"); p.ID != "alive" {
				t.Fatalf("pong id = %q", p.ID)
			}
		})
	}
	t.Run("too many rooms", func(t *testing.T) {
		join(t, c, "r1")
		join(t, c, "r2")
		c.Send("join", "r3", map[string]any{"room": "r3"})
		var e errorBody
		c.Expect("error").Decode(t, &e)
		if e.Code != "too_many_rooms" {
			t.Fatalf("error = %+v", e)
		}
	})
}

func TestRateLimitSaysWhenToRetry(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.RateMessages = 1
		c.RateBurst = 3
	})
	c := connect(t, ts, "alice", "")
	for i := 0; i < 3; i++ {
		c.Send("ping", "", nil)
		c.Expect("pong")
	}
	c.Send("ping", "p4", nil)
	f := c.Expect("error")
	var e errorBody
	f.Decode(t, &e)
	if e.Code != "rate_limited" || e.RetryAfterMS <= 0 || e.RetryAfterMS > 1000 || f.ID != "p4" {
		t.Fatalf("error %s, want rate_limited with retry_after_ms in (0, 1000]", f.Raw)
	}
}

func TestPersistentRateAbuseCloses1008(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.RateMessages = 1
		c.RateBurst = 1
	})
	c := connect(t, ts, "alice", "")
	for i := 0; i < 60; i++ {
		if err := c.Conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)); err != nil {
			break
		}
	}
	if code := c.ExpectClose(); code != 1008 {
		t.Fatalf("close code = %d, want 1008", code)
	}
}

func TestProtocolViolationsCloseWithTheirCode(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.MaxMessageLength = 1000
		c.MaxFrameBytes = 8192
		c.SendQueueBytes = 1 << 20
	})
	cases := []struct {
		name string
		typ  int
		data []byte
		code int
	}{
		{"binary frame", websocket.BinaryMessage, []byte{1, 2, 3}, 1003},
		{"invalid UTF-8", websocket.TextMessage, []byte("{\"type\":\"ping\",\"id\":\"\xff\xfe\"}"), 1007},
		{"frame over the limit", websocket.TextMessage, []byte(`{"type":"ping","id":"` + strings.Repeat("x", 9000) + `"}`), 1009},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := connect(t, ts, "alice", "")
			c.SendRaw(tc.typ, tc.data)
			if code := c.ExpectClose(); code != tc.code {
				t.Fatalf("close code = %d, want %d", code, tc.code)
			}
		})
	}
}

func TestForeignOriginIsRefused(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.AllowedOrigins = []string{"https://chat.example.com"}
	})
	host := strings.TrimPrefix(ts.URL, "http://")
	cases := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"http://" + host, true},
		{"https://chat.example.com", true},
		{"https://evil.example.com", false},
		{"null", false},
	}
	for _, tc := range cases {
		t.Run("origin "+tc.origin, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			c, resp, err := ts.DialWith(t, "/ws?name=alice", testutil.DialOptions{Header: h})
			if tc.ok {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				c.Welcome()
				return
			}
			if err == nil {
				t.Fatalf("origin %q was accepted", tc.origin)
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("response = %v, want 403", resp)
			}
		})
	}
}

func TestSubprotocolNegotiation(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	c, resp, err := ts.DialWith(t, "/ws?name=alice", testutil.DialOptions{Subprotocols: []string{"parley.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "parley.v1" {
		t.Fatalf("subprotocol = %q", got)
	}
	c.Welcome()
	_, resp, err = ts.DialWith(t, "/ws?name=bob", testutil.DialOptions{Subprotocols: []string{"parley.v9"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown subprotocol: err %v, resp %v; want 400", err, resp)
	}
}

func TestTooManyConnectionsForOneUser(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) { c.MaxConnsPerUser = 2 })
	alice := connect(t, ts, "alice", "")
	again(t, ts, alice, "")
	third, _, err := ts.DialWith(t, "/ws", testutil.DialOptions{Header: testutil.Bearer(alice.Welcomed.GuestToken)})
	if err != nil {
		t.Fatal(err)
	}
	if code := third.ExpectClose(); code != 4009 {
		t.Fatalf("close code = %d, want 4009", code)
	}
}

func TestHeaderReadTimeoutDropsSlowloris(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) { c.ReadHeaderTimeout = 300 * time.Millisecond })
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /ws HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = bufio.NewReader(conn).ReadByte()
	if err == nil {
		// The server may answer 408 before closing; the connection must end.
		_, err = conn.Read(make([]byte, 1024))
		for err == nil {
			_, err = conn.Read(make([]byte, 1024))
		}
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after 5s of unfinished headers")
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Fatalf("dropped after %v, before the 300ms header timeout", waited)
	}
}
