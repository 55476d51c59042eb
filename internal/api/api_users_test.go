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
