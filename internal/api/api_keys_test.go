package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/testutil"
)

// signInAs signs an existing account in and returns its tokens.
func signInAs(t *testing.T, ts *testutil.TestServer, username string) tokens {
	t.Helper()
	status, body, _ := do(t, ts, "POST", "/api/v1/auth/login",
		`{"username":"`+username+`","password":"`+password+`"}`, "")
	if status != http.StatusOK {
		t.Fatalf("login %s = %d %s", username, status, body)
	}
	return decodeJSON[tokens](t, body)
}

// admin makes a server administrator and returns its access token.
func admin(t *testing.T, ts *testutil.TestServer) string {
	t.Helper()
	u := signUp(t, ts, "root")
	ts.SetAdmin(t, u.User.ID)
	tok := signInAs(t, ts, "root")
	if !tok.User.Admin {
		t.Fatalf("root is not an admin after SetAdmin: %+v", tok.User)
	}
	return tok.AccessToken
}

// newKey creates an API key with the given scopes and returns it.
func newKey(t *testing.T, ts *testutil.TestServer, adminToken, name string, scopes ...string) keyJSON {
	t.Helper()
	status, body, _ := do(t, ts, "POST", "/api/v1/admin/keys",
		`{"name":"`+name+`","scopes":["`+strings.Join(scopes, `","`)+`"]}`, adminToken)
	if status != http.StatusCreated {
		t.Fatalf("create key %s = %d %s", name, status, body)
	}
	return decodeJSON[keyJSON](t, body)
}

type keyJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Scopes     []string `json:"scopes"`
	Key        string   `json:"key"`
	LastUsedAt string   `json:"last_used_at"`
	RevokedAt  string   `json:"revoked_at"`
}

// TestAPIKeys: an administrator makes keys with scopes and revokes them; a
// key is shown once, stored hashed, works only where its scopes allow,
// never as a user and never on the WebSocket, and stops at revocation.
func TestAPIKeys(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	root := admin(t, ts)
	alice := signUp(t, ts, "alice")

	rooms := newKey(t, ts, root, "room bot", "rooms")
	if !strings.HasPrefix(rooms.Key, "pk_"+rooms.ID+"_") || rooms.Name != "room bot" {
		t.Fatalf("created key %+v", rooms)
	}
	keyAdmin := newKey(t, ts, root, "ops", "admin")
	users := newKey(t, ts, root, "directory", "users")

	runScenarios(t, ts, []scenario{
		// Who may manage keys.
		{name: "a user who is not an admin", method: "POST", path: "/api/v1/admin/keys", token: alice.AccessToken,
			body: `{"name":"x","scopes":["publish"]}`, want: http.StatusForbidden},
		{name: "no token", method: "GET", path: "/api/v1/admin/keys", want: http.StatusUnauthorized},
		{name: "a key without the admin scope", method: "GET", path: "/api/v1/admin/keys", token: rooms.Key,
			want: http.StatusForbidden, contains: []string{`lacks the \"admin\" scope`}},
		{name: "a key with the admin scope", method: "GET", path: "/api/v1/admin/keys", token: keyAdmin.Key,
			want: http.StatusOK, contains: []string{rooms.ID, keyAdmin.ID, `"scopes":["rooms"]`},
			notContains: []string{rooms.Key, `"key":`}},

		// Bad requests.
		{name: "no scopes", method: "POST", path: "/api/v1/admin/keys", token: root,
			body: `{"name":"x","scopes":[]}`, want: http.StatusBadRequest, contains: []string{"scope"}},
		{name: "an unknown scope", method: "POST", path: "/api/v1/admin/keys", token: root,
			body: `{"name":"x","scopes":["everything"]}`, want: http.StatusBadRequest, contains: []string{`\"everything\" is not a scope`}},
		{name: "no name", method: "POST", path: "/api/v1/admin/keys", token: root,
			body: `{"name":" ","scopes":["rooms"]}`, want: http.StatusBadRequest, contains: []string{"name"}},
		{name: "revoke a key that does not exist", method: "DELETE", path: "/api/v1/admin/keys/0123456789abcdef0123", token: root,
			want: http.StatusNotFound},

		// What a key may do.
		{name: "rooms key creates a room", method: "POST", path: "/api/v1/rooms", token: rooms.Key,
			body: `{"name":"bots","private":true}`, want: http.StatusCreated, contains: []string{`"name":"bots"`},
			notContains: []string{`"role"`, `"owner"`}},
		{name: "rooms key reads a private room", method: "GET", path: "/api/v1/rooms/bots", token: rooms.Key,
			want: http.StatusOK},
		{name: "rooms key adds a member", method: "PUT", path: "/api/v1/rooms/bots/members/" + alice.User.ID, token: rooms.Key,
			body: `{"role":"member"}`, want: http.StatusCreated},
		{name: "users key may not manage rooms", method: "POST", path: "/api/v1/rooms", token: users.Key,
			body: `{"name":"nope"}`, want: http.StatusForbidden},
		{name: "users key looks a user up", method: "GET", path: "/api/v1/users/alice", token: users.Key,
			want: http.StatusOK, contains: []string{alice.User.ID}},
		{name: "a key is no user", method: "GET", path: "/api/v1/me", token: keyAdmin.Key,
			want: http.StatusForbidden, contains: []string{"acts as a signed-in user"}},
		{name: "a key has no unread counts", method: "GET", path: "/api/v1/unread", token: rooms.Key,
			want: http.StatusForbidden},
		{name: "a tampered key", method: "GET", path: "/api/v1/rooms", token: rooms.Key[:len(rooms.Key)-2] + "zz",
			want: http.StatusUnauthorized, contains: []string{"not valid"}},
		{name: "a key-shaped string", method: "GET", path: "/api/v1/rooms", token: "pk_nothing",
			want: http.StatusUnauthorized},
		// A user's token never gets a key's powers, even one that looks
		// like a key.
		{name: "a user's token as a key", method: "GET", path: "/api/v1/admin/keys", token: "pk_" + alice.AccessToken,
			want: http.StatusUnauthorized},
	})

	// Only the key's SHA-256 is stored.
	stored, err := ts.OpenStore(t).APIKey(context.Background(), rooms.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(rooms.Key)); stored.Hash != hex.EncodeToString(sum[:]) || strings.Contains(stored.Hash, rooms.Key) {
		t.Fatalf("stored %q for the key, want its SHA-256 only", stored.Hash)
	}

	// A key never opens a WebSocket.
	if _, resp, err := ts.DialWith(t, "/ws", testutil.DialOptions{Header: bearerHeader(keyAdmin.Key)}); err == nil ||
		resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a WebSocket with an API key: err %v, resp %v; want 401", err, resp)
	}

	// Last use is recorded; revocation stops the key at once.
	_, body, _ := do(t, ts, "GET", "/api/v1/admin/keys", "", root)
	list := decodeJSON[struct{ Keys []keyJSON }](t, body)
	for _, k := range list.Keys {
		if k.ID == rooms.ID && k.LastUsedAt == "" {
			t.Fatalf("the rooms key was used but its last use is not recorded: %+v", k)
		}
		if k.ID == users.ID && k.LastUsedAt == "" {
			t.Fatalf("the users key was used but its last use is not recorded: %+v", k)
		}
	}
	runScenarios(t, ts, []scenario{
		{name: "revoke", method: "DELETE", path: "/api/v1/admin/keys/" + rooms.ID, token: keyAdmin.Key, want: http.StatusNoContent},
		{name: "a revoked key", method: "GET", path: "/api/v1/rooms", token: rooms.Key,
			want: http.StatusUnauthorized, contains: []string{"revoked"}},
		{name: "revoked keys stay listed", method: "GET", path: "/api/v1/admin/keys", token: root,
			want: http.StatusOK, contains: []string{`"revoked_at":`}},
	})
}
