package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

func TestWebSocketAuthenticationPaths(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		testutil.WithExternalTokens(c)
		c.Guests = false
	})
	good := testutil.ExternalToken(t, testutil.TokenClaims{Sub: "user-1", Name: "Ada"})

	t.Run("authorization header", func(t *testing.T) {
		c := ts.DialToken(t, "/ws", good)
		c.Send("ping", "p", nil)
		c.Expect("pong", "unread")
	})
	t.Run("access_token query parameter", func(t *testing.T) {
		c := ts.Dial(t, "/ws?access_token="+good)
		w := c.Welcome()
		if w.User.ID != "user-1" || w.User.Name != "Ada" || w.User.Guest {
			t.Fatalf("welcome user = %+v", w.User)
		}
	})
	t.Run("first auth frame", func(t *testing.T) {
		c := ts.Dial(t, "/ws")
		c.Send("auth", "a", map[string]any{"token": good})
		w := c.Welcome()
		if w.User.ID != "user-1" {
			t.Fatalf("welcome user = %+v", w.User)
		}
	})
	t.Run("bad token in the header is refused before the upgrade", func(t *testing.T) {
		_, resp, err := ts.DialWith(t, "/ws", testutil.DialOptions{Header: testutil.Bearer(good + "x")})
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("err %v resp %v, want 401", err, resp)
		}
	})
	t.Run("expired token is refused", func(t *testing.T) {
		old := testutil.ExternalToken(t, testutil.TokenClaims{Sub: "user-1", TTL: -time.Hour})
		_, resp, err := ts.DialWith(t, "/ws", testutil.DialOptions{Header: testutil.Bearer(old)})
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("err %v resp %v, want 401", err, resp)
		}
	})
	t.Run("bad token in the auth frame closes 4001", func(t *testing.T) {
		c := ts.Dial(t, "/ws")
		c.Send("auth", "a", map[string]any{"token": "not-a-token"})
		if code := c.ExpectClose(); code != 4001 {
			t.Fatalf("close %d, want 4001", code)
		}
	})
	t.Run("a first frame that is not auth closes 4001", func(t *testing.T) {
		c := ts.Dial(t, "/ws")
		c.Send("join", "j", map[string]any{"room": "lobby"})
		if code := c.ExpectClose(); code != 4001 {
			t.Fatalf("close %d, want 4001", code)
		}
	})
	t.Run("guests are refused when not allowed", func(t *testing.T) {
		_, resp, err := ts.DialWith(t, "/ws?name=alice", testutil.DialOptions{})
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("err %v resp %v, want 401", err, resp)
		}
	})
	t.Run("rooms claim limits joins", func(t *testing.T) {
		tok := testutil.ExternalToken(t, testutil.TokenClaims{Sub: "user-2", Rooms: []string{"Support"}})
		c := ts.DialToken(t, "/ws", tok)
		c.Send("join", "ok", map[string]any{"room": "support"})
		c.Expect("joined", "unread")
		c.Send("join", "no", map[string]any{"room": "general"})
		var e errorBody
		c.Expect("error").Decode(t, &e)
		if e.Code != "forbidden" {
			t.Fatalf("error %+v, want forbidden", e)
		}
	})
}

// TestTokenExpiryDuringASession: a session whose token runs out is closed
// with 4002 unless the client sends a fresh token in time.
func TestTokenExpiryDuringASession(t *testing.T) {
	ts := testutil.StartServer(t, testutil.WithExternalTokens)
	// The verifier allows 30 s of clock skew, so a token "expiring" in 1 s
	// is honoured until then plus nothing more: the server closes at exp.
	// exp is in whole seconds: the token ends at the second its 1.5 s
	// reach into.
	exp := time.Unix(time.Now().Add(1500*time.Millisecond).Unix(), 0)
	short := testutil.ExternalToken(t, testutil.TokenClaims{Sub: "user-3", TTL: 1500 * time.Millisecond})
	c := ts.DialToken(t, "/ws", short)
	if code := c.ExpectClose(); code != 4002 {
		t.Fatalf("close %d, want 4002", code)
	}
	if now := time.Now(); now.Before(exp) {
		t.Fatalf("closed %v before the token's exp", exp.Sub(now))
	}

	refreshed := ts.DialToken(t, "/ws", testutil.ExternalToken(t, testutil.TokenClaims{Sub: "user-3", TTL: 1500 * time.Millisecond}))
	refreshed.Send("auth", "r", map[string]any{"token": testutil.ExternalToken(t, testutil.TokenClaims{Sub: "user-3"})})
	if f := refreshed.Expect("auth", "unread"); f.ID != "r" {
		t.Fatalf("auth reply id %q", f.ID)
	}
	refreshed.ExpectNone(2500*time.Millisecond, "unread")
	refreshed.Send("ping", "p", nil)
	refreshed.Expect("pong")

	other := ts.DialToken(t, "/ws", testutil.ExternalToken(t, testutil.TokenClaims{Sub: "user-4"}))
	other.Send("auth", "x", map[string]any{"token": testutil.ExternalToken(t, testutil.TokenClaims{Sub: "user-5"})})
	var e errorBody
	other.Expect("error", "unread").Decode(t, &e)
	if e.Code != "forbidden" {
		t.Fatalf("auth for another user: %+v", e)
	}
}

// TestNoAuthFrameInTimeClosesWith4001: a connection opened without
// credentials that sends nothing is told why it is dropped, with close code
// 4001 on the wire, once the auth deadline has passed and not before.
func TestNoAuthFrameInTimeClosesWith4001(t *testing.T) {
	const deadline = 300 * time.Millisecond
	ts := testutil.StartServer(t, func(c *config.Config) { c.AuthTimeout = deadline })
	start := time.Now()
	c := ts.Dial(t, "/ws")
	if code := c.ExpectClose(); code != 4001 {
		t.Fatalf("close %d, want 4001", code)
	}
	if waited := time.Since(start); waited < deadline {
		t.Fatalf("closed after %v, before the %v deadline", waited, deadline)
	}
}
