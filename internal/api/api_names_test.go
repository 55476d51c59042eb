package api_test

import (
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/testutil"
)

// TestLookalikeUsernames: a username that is free but looks like a taken
// one (same UTS #39 skeleton) is refused with 409 lookalike and a sentence
// naming the taken name, at sign-up and when an administrator creates an
// account; names that only resemble each other are fine.
func TestLookalikeUsernames(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	root := admin(t, ts)
	for _, name := range []string{"alice", "paypal", "google", "bill", "admin"} {
		signUp(t, ts, name)
	}
	register := func(username string) string {
		return `{"username":"` + username + `","password":"` + password + `"}`
	}
	var scs []scenario
	for _, tc := range []struct{ what, name, existing string }{
		{"Cyrillic а", "\u0430lice", "alice"},
		{"Cyrillic а in paypal", "p\u0430ypal", "paypal"},
		{"Greek ο", "g\u03bf\u03bfgle", "google"},
		{"digits 0 for o", "g00gle", "google"},
		{"digit 1 for l", "bi11", "bill"},
		{"mixed scripts", "\u0430dm\u0456n", "admin"},
	} {
		scs = append(scs, scenario{name: "sign-up " + tc.what, method: "POST", path: "/api/v1/auth/register",
			body: register(tc.name), want: http.StatusConflict,
			contains:    []string{`"code":"` + protocol.CodeLookalike + `"`, `looks too much like the existing username \"` + tc.existing + `\"`},
			notContains: []string{"access_token"}})
	}
	scs = append(scs,
		scenario{name: "full-width is the same name, not a look-alike", method: "POST", path: "/api/v1/auth/register",
			body: register("\uff41\uff4c\uff49\uff43\uff45"), want: http.StatusConflict,
			contains: []string{`"code":"invalid"`, "is taken"}},
		scenario{name: "mathematical bold is the same name too", method: "POST", path: "/api/v1/auth/register",
			body: register("\U0001d41a\U0001d41d\U0001d426\U0001d422\U0001d427"), want: http.StatusConflict,
			contains: []string{`"code":"invalid"`, "is taken"}},
		scenario{name: "admin creates a look-alike", method: "POST", path: "/api/v1/users", token: root,
			body: register("p\u0430yp\u0430l"), want: http.StatusConflict, contains: []string{`"code":"lookalike"`}},
		scenario{name: "a merely similar name", method: "POST", path: "/api/v1/auth/register",
			body: register("alicia"), want: http.StatusCreated},
		scenario{name: "the look-alike was not created", method: "GET", path: "/api/v1/users/p%D0%B0ypal",
			token: root, want: http.StatusNotFound},
	)
	runScenarios(t, ts, scs)
}

// TestHiddenCharactersInNames: display names and room topics refuse
// bidi overrides, isolates and other hidden formatting characters over the
// HTTP API; an integrating app's token keeps working but the name members
// see over the WebSocket has them dropped.
func TestHiddenCharactersInNames(t *testing.T) {
	ts := testutil.StartServer(t, testutil.WithExternalTokens)
	bob := signUp(t, ts, "bob")
	runScenarios(t, ts, []scenario{
		{name: "sign-up with a right-to-left override", method: "POST", path: "/api/v1/auth/register",
			body: `{"username":"mallory","password":"` + password + `","display_name":"alice\u202egnp.exe"}`,
			want: http.StatusBadRequest, contains: []string{`"code":"invalid"`, "U+202E"}},
		{name: "display name change with an isolate", method: "PATCH", path: "/api/v1/me", token: bob.AccessToken,
			body: `{"name":"\u2067bob\u2069"}`, want: http.StatusBadRequest, contains: []string{"U+2067"}},
		{name: "display name change with a zero width space", method: "PATCH", path: "/api/v1/me", token: bob.AccessToken,
			body: `{"name":"ad\u200bmin"}`, want: http.StatusBadRequest, contains: []string{"U+200B"}},
		{name: "an emoji sequence with a joiner is fine", method: "PATCH", path: "/api/v1/me", token: bob.AccessToken,
			body: `{"name":"Bob 👩\u200d💻"}`, want: http.StatusOK},
		{name: "room with a bidi topic", method: "POST", path: "/api/v1/rooms", token: bob.AccessToken,
			body: `{"name":"lobby","topic":"deploys \u202eelif.exe"}`, want: http.StatusBadRequest, contains: []string{"U+202E"}},
		{name: "room with a plain topic", method: "POST", path: "/api/v1/rooms", token: bob.AccessToken,
			body: `{"name":"lobby","topic":"deploys"}`, want: http.StatusCreated},
		{name: "topic change with a left-to-right embedding", method: "PATCH", path: "/api/v1/rooms/lobby", token: bob.AccessToken,
			body: `{"topic":"\u202atxt"}`, want: http.StatusBadRequest, contains: []string{"U+202A"}},
		{name: "the topic is unchanged", method: "GET", path: "/api/v1/rooms/lobby", token: bob.AccessToken,
			want: http.StatusOK, contains: []string{`"topic":"deploys"`}},
	})

	// A guest picking a name with an override on the WebSocket is refused
	// at the upgrade (guest names follow the username rules).
	_, resp, err := ts.DialWith(t, "/ws?name=alice%E2%80%AEgnp", testutil.DialOptions{})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("guest named with a right-to-left override: err %v, resp %v; want 401", err, resp)
	}
	resp.Body.Close()

	// Over the WebSocket: what members see.
	watcher := dialAs(t, ts, bob.AccessToken)
	watcher.Send(protocol.TypeJoin, "j", map[string]any{"room": "lobby"})
	if j := watcher.Expect(protocol.TypeJoined, protocol.TypeUnread); j.ID != "j" {
		t.Fatalf("joined %+v", j)
	}
	ext := testutil.ExternalToken(t, testutil.TokenClaims{Sub: "ext-7", Name: "alice\u202egnp.exe"})
	c := ts.DialToken(t, "/ws/lobby", ext)
	c.Expect(protocol.TypeJoined, protocol.TypeUnread)
	if c.Welcomed.User.Name != "alicegnp.exe" {
		t.Fatalf("welcome names the external user %q, want the override dropped", c.Welcomed.User.Name)
	}
	c.Send(protocol.TypeChat, "m", map[string]any{"room": "lobby", "text": "hi", "client_id": "c1"})
	var msg protocol.MessageBody
	watcher.Expect(protocol.TypeMessage, protocol.TypePresence).Decode(t, &msg)
	if msg.From.Name != "alicegnp.exe" || msg.From.ID != "ext-7" {
		t.Fatalf("message from %+v, want ext-7 shown as alicegnp.exe", msg.From)
	}
}
