package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

func TestSignUpSignInRefreshSignOut(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	alice := signUp(t, ts, "Alice")
	if alice.AccessToken == "" || alice.RefreshToken == "" || alice.ExpiresAt == "" {
		t.Fatalf("register gave %+v", alice)
	}
	if !strings.HasPrefix(alice.User.ID, "u_") || alice.User.Username != "alice" || alice.User.Name != "Alice" {
		t.Fatalf("user = %+v, want id u_…, username alice, name Alice", alice.User)
	}
	status, body, _ := do(t, ts, "POST", "/api/v1/auth/login", `{"username":"ALICE","password":"`+password+`"}`, "")
	if status != http.StatusOK {
		t.Fatalf("login = %d %s", status, body)
	}
	login := decodeJSON[tokens](t, body)
	if login.User.ID != alice.User.ID {
		t.Fatalf("login as ALICE signed in %q, want %q", login.User.ID, alice.User.ID)
	}
	refreshed := refresh(t, ts, login.RefreshToken, http.StatusOK)

	runScenarios(t, ts, []scenario{
		{name: "me with the sign-up token", method: "GET", path: "/api/v1/me", token: alice.AccessToken,
			want: 200, contains: []string{`"id":"` + alice.User.ID, `"username":"alice"`, `"name":"Alice"`, `"admin":false`},
			notContains: []string{"password", "argon2"}},
		{name: "me with the refreshed token", method: "GET", path: "/api/v1/me", token: refreshed.AccessToken,
			want: 200, contains: []string{alice.User.ID}},
		{name: "sign out the refreshed session", method: "POST", path: "/api/v1/auth/logout", token: refreshed.AccessToken, want: 204},
		{name: "its access token is refused", method: "GET", path: "/api/v1/me", token: refreshed.AccessToken,
			want: 401, contains: []string{`"code":"unauthorized"`}},
		{name: "its refresh token is refused", method: "POST", path: "/api/v1/auth/refresh",
			body: `{"refresh_token":"` + refreshed.RefreshToken + `"}`, want: 401, contains: []string{`"code":"unauthorized"`}},
		{name: "the sign-up session lives on", method: "GET", path: "/api/v1/me", token: alice.AccessToken, want: 200},
		{name: "sign out by refresh token", method: "POST", path: "/api/v1/auth/logout",
			body: `{"refresh_token":"` + alice.RefreshToken + `"}`, want: 204},
		{name: "that session's access token is refused", method: "GET", path: "/api/v1/me", token: alice.AccessToken, want: 401},
		{name: "signing out twice is fine", method: "POST", path: "/api/v1/auth/logout",
			body: `{"refresh_token":"` + alice.RefreshToken + `"}`, want: 204},
		{name: "sign out with nothing", method: "POST", path: "/api/v1/auth/logout", want: 401},
	})
}

// refresh trades a refresh token and checks the status.
func refresh(t *testing.T, ts *testutil.TestServer, token string, want int) tokens {
	t.Helper()
	status, body, _ := do(t, ts, "POST", "/api/v1/auth/refresh", `{"refresh_token":"`+token+`"}`, "")
	if status != want {
		t.Fatalf("refresh = %d, want %d: %s", status, want, body)
	}
	if want != http.StatusOK {
		return tokens{}
	}
	return decodeJSON[tokens](t, body)
}

func TestRefreshRotatesTheRefreshToken(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	first := signUp(t, ts, "bob")
	second := refresh(t, ts, first.RefreshToken, http.StatusOK)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == "" {
		t.Fatalf("refresh did not give a new pair")
	}
	refresh(t, ts, first.RefreshToken, http.StatusUnauthorized) // used up
	third := refresh(t, ts, second.RefreshToken, http.StatusOK)
	refresh(t, ts, second.RefreshToken, http.StatusUnauthorized)
	if status, body, _ := do(t, ts, "GET", "/api/v1/me", "", third.AccessToken); status != 200 {
		t.Fatalf("me with the newest access token = %d %s", status, body)
	}
}

// TestSignOutRevokesTheTokenOnTheWebSocket: after sign-out the same access
// token no longer opens a WebSocket.
func TestSignOutRevokesTheTokenOnTheWebSocket(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	carol := signUp(t, ts, "carol")
	c := dialAs(t, ts, carol.AccessToken)
	if status, body, _ := do(t, ts, "POST", "/api/v1/auth/logout", "", carol.AccessToken); status != 204 {
		t.Fatalf("logout = %d %s", status, body)
	}
	// The connection opened with the session is closed at once.
	if code := c.ExpectClose(); code != 4001 {
		t.Fatalf("open connection closed with %d after sign-out, want 4001", code)
	}
	_, resp, err := ts.DialWith(t, "/ws", testutil.DialOptions{Header: bearerHeader(carol.AccessToken)})
	if err == nil {
		t.Fatalf("dial with a signed-out token succeeded")
	}
	if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dial with a signed-out token: %v, response %v; want a 401 hand-shake", err, resp)
	}
}

// TestSignInIsRateLimitedPerAccountAndPerAddress acts from two loopback
// addresses: the account limit follows the account across addresses, the
// address limit follows the address across accounts.
func TestSignInIsRateLimitedPerAccountAndPerAddress(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) { c.LoginRatePerMinute = 3 })
	signUp(t, ts, "dave")
	one, two := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
	wrong := `{"username":"dave","password":"not the password"}`
	for i := range 3 {
		if status, body, _ := doFrom(t, one, ts, "POST", "/api/v1/auth/login", wrong, ""); status != 401 {
			t.Fatalf("attempt %d = %d %s, want 401", i+1, status, body)
		}
	}
	// The account is spent: even the right password from a fresh address waits.
	right := `{"username":"dave","password":"` + password + `"}`
	status, body, hdr := doFrom(t, two, ts, "POST", "/api/v1/auth/login", right, "")
	if status != http.StatusTooManyRequests || !strings.Contains(body, `"code":"rate_limited"`) {
		t.Fatalf("fourth attempt on the account = %d %s, want 429 rate_limited", status, body)
	}
	if secs, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || secs < 1 || secs > 60 {
		t.Fatalf("Retry-After = %q, want 1 to 60 seconds", hdr.Get("Retry-After"))
	}
	// The second address spent nothing on the refused attempt: three more
	// tries there, for accounts that do not exist, and then it is spent.
	for i, name := range []string{"erin", "frank", "grace"} {
		status, body, _ := doFrom(t, two, ts, "POST", "/api/v1/auth/login", `{"username":"`+name+`","password":"whatever1"}`, "")
		if status != 401 {
			t.Fatalf("address attempt %d = %d %s, want 401", i+1, status, body)
		}
	}
	if status, body, hdr := doFrom(t, two, ts, "POST", "/api/v1/auth/login", `{"username":"heidi","password":"whatever1"}`, ""); status != 429 || hdr.Get("Retry-After") == "" {
		t.Fatalf("fourth attempt from the address = %d %s (Retry-After %q), want 429 with Retry-After", status, body, hdr.Get("Retry-After"))
	}
}

// TestSignInDoesNotRevealWhichAccountsExist: an unknown user, a name that
// cannot be an account and a wrong password get byte-identical answers.
func TestSignInDoesNotRevealWhichAccountsExist(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	signUp(t, ts, "ivan")
	type answer struct {
		status int
		body   string
	}
	var answers []answer
	for _, body := range []string{
		`{"username":"ivan","password":"wrong password"}`,
		`{"username":"nobody","password":"wrong password"}`,
		`{"username":"a b","password":"wrong password"}`,
	} {
		status, got, hdr := do(t, ts, "POST", "/api/v1/auth/login", body, "")
		if hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate header", body)
		}
		answers = append(answers, answer{status, got})
	}
	for _, a := range answers[1:] {
		if a != answers[0] {
			t.Fatalf("answers differ: %+v vs %+v", answers[0], a)
		}
	}
	if answers[0].status != 401 {
		t.Fatalf("status = %d, want 401", answers[0].status)
	}
}

func TestAuthValidation(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	signUp(t, ts, "judy")
	big := `{"username":"kim","password":"` + strings.Repeat("x", 70<<10) + `"}`
	runScenarios(t, ts, []scenario{
		{name: "taken, other case", method: "POST", path: "/api/v1/auth/register",
			body: `{"username":"JUDY","password":"` + password + `"}`, want: 409, contains: []string{"taken"}},
		{name: "taken, full width", method: "POST", path: "/api/v1/auth/register",
			body: `{"username":"ｊｕｄｙ","password":"` + password + `"}`, want: 409},
		{name: "short password", method: "POST", path: "/api/v1/auth/register",
			body: `{"username":"kim","password":"short"}`, want: 400,
			contains: []string{`"code":"invalid"`, "the password is 5 bytes long; it must be at least 8"}, notContains: []string{"short\""}},
		{name: "username with a space", method: "POST", path: "/api/v1/auth/register",
			body: `{"username":"k m","password":"` + password + `"}`, want: 400, contains: []string{"username", "character"}},
		{name: "HTML in a username is echoed as text, not escaped for HTML", method: "POST", path: "/api/v1/auth/register",
			body: `{"username":"<b>kim","password":"` + password + `"}`, want: 400,
			contains: []string{`\"<b>kim\" has the character '<'`}, notContains: []string{`\u003c`}},
		{name: "username too short", method: "POST", path: "/api/v1/auth/register",
			body: `{"username":"km","password":"` + password + `"}`, want: 400, contains: []string{"is 2 characters long; it must be 3 to 32"}},
		{name: "display name too long", method: "POST", path: "/api/v1/auth/register",
			body: `{"username":"kim","password":"` + password + `","display_name":"` + strings.Repeat("n", 65) + `"}`,
			want: 400, contains: []string{"display name must be 1 to 64"}},
		{name: "unknown field", method: "POST", path: "/api/v1/auth/register",
			body: `{"username":"kim","password":"` + password + `","admin":true}`, want: 400, contains: []string{`unknown field \"admin\"`}},
		{name: "wrong type", method: "POST", path: "/api/v1/auth/register",
			body: `{"username":7,"password":"` + password + `"}`, want: 400, contains: []string{`field \"username\"`}},
		{name: "malformed JSON", method: "POST", path: "/api/v1/auth/login", body: `{"username":`, want: 400},
		{name: "two JSON values", method: "POST", path: "/api/v1/auth/login", body: `{} {}`, want: 400, contains: []string{"one JSON object"}},
		{name: "no body", method: "POST", path: "/api/v1/auth/login", want: 400, contains: []string{"body is required"}},
		{name: "body over 64 KiB", method: "POST", path: "/api/v1/auth/register", body: big, want: 413},
		{name: "not UTF-8", method: "POST", path: "/api/v1/auth/login", body: "{\"username\":\"\xff\xfe\"}", want: 400, contains: []string{"UTF-8"}},
		{name: "refresh with nonsense", method: "POST", path: "/api/v1/auth/refresh", body: `{"refresh_token":"nope"}`, want: 401},
		{name: "refresh with nothing", method: "POST", path: "/api/v1/auth/refresh", body: `{}`, want: 401},
		{name: "no token", method: "GET", path: "/api/v1/me", want: 401, contains: []string{"Bearer"}},
		{name: "garbage token", method: "GET", path: "/api/v1/me", token: "not.a.jwt", want: 401},
		{name: "a display name is kept", method: "POST", path: "/api/v1/auth/register",
			body: `{"username":"kim","password":"` + password + `","display_name":"Kim K."}`, want: 201, contains: []string{`"name":"Kim K."`}},
	})
}

func TestAccountEndpointsAreAbsentWithoutAccounts(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) { c.Accounts = false })
	runScenarios(t, ts, []scenario{
		{name: "register", method: "POST", path: "/api/v1/auth/register",
			body: `{"username":"alice","password":"` + password + `"}`, want: 404, contains: []string{"disabled"}},
		{name: "login", method: "POST", path: "/api/v1/auth/login", body: `{"username":"alice","password":"` + password + `"}`, want: 404},
		{name: "refresh", method: "POST", path: "/api/v1/auth/refresh", body: `{"refresh_token":"x"}`, want: 404},
		{name: "rooms still need a token", method: "GET", path: "/api/v1/rooms", want: 401},
	})
}

// TestExternalTokenCannotBecomeAnAccount: a token from the configured
// identity provider whose sub is an existing account's id is refused,
// on the API and on the WebSocket: external users have ids of their own.
func TestExternalTokenCannotBecomeAnAccount(t *testing.T) {
	ts := testutil.StartServer(t, testutil.WithExternalTokens)
	alice := signUp(t, ts, "alice")
	forged := testutil.ExternalToken(t, testutil.TokenClaims{Sub: alice.User.ID, Name: "alice"})
	runScenarios(t, ts, []scenario{
		{name: "me with an account's id as sub", method: "GET", path: "/api/v1/me", token: forged,
			want: http.StatusUnauthorized, notContains: []string{alice.User.ID}},
	})
	_, resp, err := ts.DialWith(t, "/ws", testutil.DialOptions{Header: bearerHeader(forged)})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("WebSocket with an account's id as sub: err %v, resp %v; want 401", err, resp)
	}
}
