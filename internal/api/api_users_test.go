package api_test

import (
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/testutil"
)

// TestLookUpAUserByName: anyone signed in, guests included, finds an
// account's id by its name as sign-in compares names, and learns nothing
// but the public fields.
func TestLookUpAUserByName(t *testing.T) {
	ts := testutil.StartServer(t, testutil.WithExternalTokens)
	alice := signUp(t, ts, "alice")
	bob := signUp(t, ts, "Bob")
	ext := testutil.ExternalToken(t, testutil.TokenClaims{Sub: "ext-1"})
	guest := ts.Dial(t, "/ws?name=visitor")
	guestToken := guest.Welcome().GuestToken
	want := []string{`"id":"` + bob.User.ID + `"`, `"username":"bob"`, `"name":"Bob"`}
	private := []string{"admin", "password", "created", "argon2"}
	runScenarios(t, ts, []scenario{
		{name: "by an account", method: "GET", path: "/api/v1/users/bob", token: alice.AccessToken,
			want: http.StatusOK, contains: want, notContains: private},
		{name: "in another case and width", method: "GET", path: "/api/v1/users/%EF%BC%A2%EF%BC%AF%EF%BC%A2", token: alice.AccessToken,
			want: http.StatusOK, contains: want},
		{name: "by an external user", method: "GET", path: "/api/v1/users/Bob", token: ext,
			want: http.StatusOK, contains: want},
		{name: "by a guest", method: "GET", path: "/api/v1/users/bob", token: guestToken,
			want: http.StatusOK, contains: want},
		{name: "nobody of that name", method: "GET", path: "/api/v1/users/carol", token: alice.AccessToken,
			want: http.StatusNotFound, contains: []string{`"code":"not_found"`, `carol`}},
		{name: "a name no account can have", method: "GET", path: "/api/v1/users/x", token: alice.AccessToken,
			want: http.StatusNotFound},
		{name: "without a token", method: "GET", path: "/api/v1/users/bob",
			want: http.StatusUnauthorized},
		{name: "a guest elsewhere in the API", method: "GET", path: "/api/v1/me", token: guestToken,
			want: http.StatusUnauthorized, contains: []string{"guests cannot use this endpoint"}},
	})
}

// TestManagingAccounts: administrators and keys with the users scope list
// and create accounts, and disable one: it cannot sign in, its tokens and
// refresh tokens stop working and its connections close with 4003, until
// it is enabled again.
func TestManagingAccounts(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	root := admin(t, ts)
	users := newKey(t, ts, root, "directory", "users").Key
	alice := signUp(t, ts, "alice")
	ac := dialAs(t, ts, alice.AccessToken)

	runScenarios(t, ts, []scenario{
		{name: "list", method: "GET", path: "/api/v1/users", token: users, want: http.StatusOK,
			contains: []string{`"username":"root","name":"root","admin":true`, `"username":"alice"`}, notContains: []string{"argon2", "password"}},
		{name: "a user may not list", method: "GET", path: "/api/v1/users", token: alice.AccessToken, want: http.StatusForbidden},
		{name: "create", method: "POST", path: "/api/v1/users", token: users,
			body: `{"username":"Bob","password":"` + password + `","display_name":"Bob B."}`, want: http.StatusCreated,
			contains: []string{`"username":"bob"`, `"name":"Bob B."`, `"admin":false`}},
		{name: "create a taken name", method: "POST", path: "/api/v1/users", token: users,
			body: `{"username":"BOB","password":"` + password + `"}`, want: http.StatusConflict},
		{name: "create with a short password", method: "POST", path: "/api/v1/users", token: users,
			body: `{"username":"carl","password":"short"}`, want: http.StatusBadRequest, contains: []string{"password"}},
		{name: "a users key may not make an admin", method: "POST", path: "/api/v1/users", token: users,
			body: `{"username":"carl","password":"` + password + `","admin":true}`, want: http.StatusForbidden},
		{name: "an admin may", method: "POST", path: "/api/v1/users", token: root,
			body: `{"username":"carl","password":"` + password + `","admin":true}`, want: http.StatusCreated, contains: []string{`"admin":true`}},
		{name: "disable nobody", method: "POST", path: "/api/v1/users/nobody/disable", token: users, want: http.StatusNotFound},
		{name: "disable alice", method: "POST", path: "/api/v1/users/Alice/disable", token: users, want: http.StatusNoContent},
	})
	if code := ac.ExpectClose(); code != 4003 {
		t.Fatalf("alice's connection closed with %d, want 4003", code)
	}
	runScenarios(t, ts, []scenario{
		{name: "a disabled account cannot sign in", method: "POST", path: "/api/v1/auth/login",
			body: `{"username":"alice","password":"` + password + `"}`, want: http.StatusForbidden, contains: []string{"disabled"}},
		{name: "nor use its token", method: "GET", path: "/api/v1/me", token: alice.AccessToken, want: http.StatusUnauthorized},
		{name: "nor refresh", method: "POST", path: "/api/v1/auth/refresh",
			body: `{"refresh_token":"` + alice.RefreshToken + `"}`, want: http.StatusUnauthorized},
		{name: "the wrong password still says only that", method: "POST", path: "/api/v1/auth/login",
			body: `{"username":"alice","password":"wrong password!"}`, want: http.StatusUnauthorized, notContains: []string{"disabled"}},
		{name: "listed as disabled", method: "GET", path: "/api/v1/users", token: root, want: http.StatusOK, contains: []string{`"disabled":true`}},
		{name: "an admin cannot disable themself", method: "POST", path: "/api/v1/users/root/disable", token: root, want: http.StatusBadRequest},
		{name: "enable", method: "POST", path: "/api/v1/users/alice/enable", token: root, want: http.StatusNoContent},
		{name: "signs in again", method: "POST", path: "/api/v1/auth/login",
			body: `{"username":"alice","password":"` + password + `"}`, want: http.StatusOK},
	})
	if _, resp, err := ts.DialWith(t, "/ws", testutil.DialOptions{Header: bearerHeader(alice.AccessToken)}); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the disabled account's old token on the WebSocket: %v %v, want 401", err, resp)
	}
}
