package api_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

// TestHostileRequests plays the attacks the WebSocket protocol is tested
// against on the HTTP API, against a real server: every one gets a JSON
// error with a documented status and code, and none reaches the store.
func TestHostileRequests(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		testutil.WithExternalTokens(c)
		c.AllowedOrigins = []string{"https://app.example.com"}
	})
	alice := signUp(t, ts, "alice")
	root := admin(t, ts)
	key := newKey(t, ts, root, "bot", "rooms")

	// A genuine access token with its payload changed and the signature
	// kept; the same payload under "alg":"none"; HS512 with the right
	// external secret; an expired external token.
	parts := strings.Split(alice.AccessToken, ".")
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u_someone_else","exp":4102444800}`))
	tampered := parts[0] + "." + payload + "." + parts[2]
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{
		"sub": "ext-1", "aud": testutil.ExternalAudience, "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(testutil.ExternalSecret))
	if err != nil {
		t.Fatal(err)
	}
	expired := testutil.ExternalToken(t, testutil.TokenClaims{Sub: "ext-1", TTL: -time.Hour})
	wrongSecret := key.Key[:strings.LastIndex(key.Key, "_")+1] + strings.Repeat("A", 43)

	huge := `{"name":"` + strings.Repeat("x", 70<<10) + `"}`
	nested := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	runScenarios(t, ts, []scenario{
		{name: "malformed JSON", method: "POST", path: "/api/v1/rooms", token: alice.AccessToken,
			body: `{"name":"x",`, want: 400, contains: []string{`"code":"invalid"`, "malformed JSON"}},
		{name: "not an object", method: "POST", path: "/api/v1/rooms", token: alice.AccessToken,
			body: `["lobby"]`, want: 400, contains: []string{`"code":"invalid"`}},
		{name: "two JSON values", method: "POST", path: "/api/v1/rooms", token: alice.AccessToken,
			body: `{"name":"a"}{"name":"b"}`, want: 400, contains: []string{"one JSON object"}},
		{name: "unknown field", method: "POST", path: "/api/v1/rooms", token: alice.AccessToken,
			body: `{"name":"a","owner":"u_root"}`, want: 400, contains: []string{`unknown field \"owner\"`}},
		{name: "deeply nested JSON", method: "POST", path: "/api/v1/rooms", token: alice.AccessToken,
			body: nested, want: 400, contains: []string{`"code":"invalid"`}},
		{name: "invalid UTF-8", method: "POST", path: "/api/v1/rooms", token: alice.AccessToken,
			body: "{\"name\":\"a\xff\"}", want: 400, contains: []string{"UTF-8"}},
		{name: "huge body", method: "POST", path: "/api/v1/rooms", token: alice.AccessToken,
			body: huge, want: 413, contains: []string{`"code":"invalid"`, "65536"}},
		{name: "huge body before sign-in", method: "POST", path: "/api/v1/auth/login",
			body: huge, want: 413},

		{name: "tampered access token", method: "GET", path: "/api/v1/me", token: tampered, want: 401, contains: []string{`"code":"unauthorized"`}},
		{name: "alg none", method: "GET", path: "/api/v1/me", token: none, want: 401},
		{name: "external token with another algorithm", method: "GET", path: "/api/v1/me", token: hs512, want: 401},
		{name: "expired external token", method: "GET", path: "/api/v1/me", token: expired, want: 401, contains: []string{"expired"}},
		{name: "API key with a wrong secret", method: "GET", path: "/api/v1/rooms", token: wrongSecret, want: 401},
		{name: "garbage bearer", method: "GET", path: "/api/v1/rooms", token: "' OR '1'='1", want: 401},

		{name: "SQL in a username", method: "POST", path: "/api/v1/auth/register",
			body: `{"username":"a'; DROP TABLE users;--","password":"` + password + `"}`, want: 400, contains: []string{"username"}},
		{name: "SQL in a sign-in", method: "POST", path: "/api/v1/auth/login",
			body: `{"username":"alice' OR '1'='1","password":"x' OR '1'='1"}`, want: 401},
		{name: "SQL in a room path", method: "GET", path: "/api/v1/rooms/lobby'%20OR%20'1'='1", token: alice.AccessToken,
			want: 400, contains: []string{`"code":"invalid_room"`}},
		{name: "SQL in a user path", method: "GET", path: "/api/v1/users/x'%20OR%201=1--", token: alice.AccessToken, want: 404},
		{name: "path traversal in a room", method: "GET", path: "/api/v1/rooms/..%2F..%2Fetc%2Fpasswd", token: alice.AccessToken,
			want: 400, contains: []string{`"code":"invalid_room"`}},
		{name: "the users table is intact", method: "GET", path: "/api/v1/users/alice", token: alice.AccessToken, want: 200},
	})

	// Content types: a form or text body is what another site's page can
	// send without a preflight.
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", "application/xml"} {
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/auth/register",
			strings.NewReader(`{"username":"mallory","password":"`+password+`"}`))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Origin", "https://evil.example.net")
		status, body, _ := send(t, http.DefaultClient, req, "")
		if status != http.StatusUnsupportedMediaType || !strings.Contains(body, `"code":"invalid"`) {
			t.Errorf("register sent as %s = %d %s, want 415", ct, status, body)
		}
	}
	status, body, _ := do(t, ts, "GET", "/api/v1/users/mallory", "", alice.AccessToken)
	if status != http.StatusNotFound {
		t.Fatalf("a refused form post made an account: %d %s", status, body)
	}
	// Without Origin it is not a browser (curl -d declares a form): the
	// body is read as JSON.
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/auth/register",
		strings.NewReader(`{"username":"carol","password":"`+password+`"}`))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// Not through send: the OpenAPI document describes JSON bodies only.
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("curl-style register = %d", resp.StatusCode)
	}
	req, _ = http.NewRequest("POST", ts.URL+"/api/v1/rooms", strings.NewReader(`{"name":"charset"}`))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Authorization", "Bearer "+alice.AccessToken)
	if status, body, _ := send(t, http.DefaultClient, req, `{"name":"charset"}`); status != http.StatusCreated {
		t.Fatalf("JSON with a charset = %d %s", status, body)
	}

	// Wrong methods get the router's 405 naming the allowed ones; no
	// handler runs.
	for _, m := range []string{"PUT", "DELETE", "PATCH", "TRACE"} {
		req, _ := http.NewRequest(m, ts.URL+"/api/v1/auth/login", strings.NewReader(`{}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), "POST") {
			t.Errorf("%s /auth/login = %d, Allow %q; want 405 allowing POST", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}

	// A foreign origin's preflight is refused, and its simple request gets
	// no CORS header, so the browser hides the answer.
	status, h := cors(t, ts, "OPTIONS", "/api/v1/me", "https://evil.example.net",
		map[string]string{"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"})
	if status != http.StatusForbidden || h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from a foreign origin = %d %v", status, h)
	}
}
