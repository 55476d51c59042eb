package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testutil"
)

// TestChangePasswordSignsOutOtherSessions: a new password needs the
// current one, follows the password rules, and ends every other session —
// its connections close with 4001 and its refresh token stops working —
// while the session that changed it goes on.
func TestChangePasswordSignsOutOtherSessions(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	signUp(t, ts, "alice")
	laptop, phone := signInAs(t, ts, "alice"), signInAs(t, ts, "alice")
	lc, pc := dialAs(t, ts, laptop.AccessToken), dialAs(t, ts, phone.AccessToken)
	runScenarios(t, ts, []scenario{
		{name: "the wrong current password", method: "POST", path: "/api/v1/me/password", token: laptop.AccessToken,
			body: `{"current_password":"not it","new_password":"a new and long one"}`, want: http.StatusForbidden},
		{name: "no current password", method: "POST", path: "/api/v1/me/password", token: laptop.AccessToken,
			body: `{"new_password":"a new and long one"}`, want: http.StatusBadRequest, contains: []string{"current_password"}},
		{name: "a weak new one", method: "POST", path: "/api/v1/me/password", token: laptop.AccessToken,
			body: `{"current_password":"` + password + `","new_password":"short"}`, want: http.StatusBadRequest},
		{name: "a guest", method: "POST", path: "/api/v1/me/password", token: guestToken(t, ts),
			body: `{"current_password":"x","new_password":"a new and long one"}`, want: http.StatusUnauthorized},
	})
	// Refused attempts changed nothing.
	pc.ExpectNone(50*time.Millisecond, "unread")

	if status, body, _ := do(t, ts, "POST", "/api/v1/me/password",
		`{"current_password":"`+password+`","new_password":"a new and long one"}`, laptop.AccessToken); status != http.StatusNoContent {
		t.Fatalf("change password = %d %s", status, body)
	}
	if code := pc.ExpectClose(); code != 4001 {
		t.Fatalf("the phone's connection closed with %d, want 4001", code)
	}
	lc.Send("ping", "p", nil)
	lc.Expect("pong", "unread")
	runScenarios(t, ts, []scenario{
		{name: "the phone refreshes", method: "POST", path: "/api/v1/auth/refresh", body: `{"refresh_token":"` + phone.RefreshToken + `"}`,
			want: http.StatusUnauthorized},
		{name: "the laptop refreshes", method: "POST", path: "/api/v1/auth/refresh", body: `{"refresh_token":"` + laptop.RefreshToken + `"}`,
			want: http.StatusOK},
		{name: "the old password", method: "POST", path: "/api/v1/auth/login",
			body: `{"username":"alice","password":"` + password + `"}`, want: http.StatusUnauthorized},
		{name: "the new password", method: "POST", path: "/api/v1/auth/login",
			body: `{"username":"alice","password":"a new and long one"}`, want: http.StatusOK},
	})
}

// guestToken connects a guest and returns its guest token.
func guestToken(t *testing.T, ts *testutil.TestServer) string {
	t.Helper()
	c := ts.Dial(t, "/ws?name=visitor")
	tok := c.Welcome().GuestToken
	c.Close()
	return tok
}

// TestRenameAndDeleteOwnAccount: a user renames themselves, then deletes
// their account with their password: their connections close with 4003,
// they cannot sign in, their name stays taken, and their messages stay.
func TestRenameAndDeleteOwnAccount(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	alice, bob := signUp(t, ts, "alice"), signUp(t, ts, "bob")
	runScenarios(t, ts, []scenario{
		{name: "rename", method: "PATCH", path: "/api/v1/me", body: `{"name":"  Alice A.  "}`, token: alice.AccessToken,
			want: http.StatusOK, contains: []string{`"name":"Alice A."`}},
		{name: "an empty name", method: "PATCH", path: "/api/v1/me", body: `{"name":" "}`, token: alice.AccessToken,
			want: http.StatusBadRequest},
		{name: "nothing to change", method: "PATCH", path: "/api/v1/me", body: `{}`, token: alice.AccessToken,
			want: http.StatusBadRequest},
		{name: "renamed", method: "GET", path: "/api/v1/users/alice", token: bob.AccessToken,
			want: http.StatusOK, contains: []string{`"name":"Alice A."`}},
	})
	ac := dialAs(t, ts, alice.AccessToken)
	joinRoom(t, ac, "lobby")
	if err := sendErr(t, ac, "lobby", "remember me"); err != "" {
		t.Fatal(err)
	}
	runScenarios(t, ts, []scenario{
		{name: "without the password", method: "DELETE", path: "/api/v1/me", body: `{"password":"nope"}`,
			token: alice.AccessToken, want: http.StatusForbidden},
		{name: "with it", method: "DELETE", path: "/api/v1/me", body: `{"password":"` + password + `"}`,
			token: alice.AccessToken, want: http.StatusNoContent},
	})
	if code := ac.ExpectClose(); code != 4003 {
		t.Fatalf("alice's connection closed with %d, want 4003", code)
	}
	runScenarios(t, ts, []scenario{
		{name: "sign in", method: "POST", path: "/api/v1/auth/login", body: `{"username":"alice","password":"` + password + `"}`,
			want: http.StatusUnauthorized},
		{name: "the token", method: "GET", path: "/api/v1/me", token: alice.AccessToken, want: http.StatusUnauthorized},
		{name: "the name", method: "POST", path: "/api/v1/auth/register", body: `{"username":"Alice","password":"` + password + `"}`,
			want: http.StatusConflict},
		{name: "looked up", method: "GET", path: "/api/v1/users/alice", token: bob.AccessToken, want: http.StatusNotFound},
		{name: "the messages stay", method: "GET", path: "/api/v1/rooms/lobby/messages", token: bob.AccessToken,
			want: http.StatusOK, contains: []string{"remember me"}},
		{name: "a private message to her", method: "POST", path: "/api/v1/conversations/" + alice.User.ID + "/messages",
			body: `{"text":"hello?"}`, token: newKey(t, ts, admin(t, ts), "k", "publish").Key, want: http.StatusNotFound},
	})
}

// TestAdministratorsDeleteAccounts: an administrator deletes an account by
// name, which closes its connections and is in the audit log; not their
// own this way, and not one that is not there.
func TestAdministratorsDeleteAccounts(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	root := admin(t, ts)
	bob := signUp(t, ts, "bob")
	bc := dialAs(t, ts, bob.AccessToken)
	runScenarios(t, ts, []scenario{
		{name: "by a user", method: "DELETE", path: "/api/v1/users/root", token: bob.AccessToken, want: http.StatusForbidden},
		{name: "oneself", method: "DELETE", path: "/api/v1/users/root", token: root, want: http.StatusBadRequest},
		{name: "nobody", method: "DELETE", path: "/api/v1/users/nobody", token: root, want: http.StatusNotFound},
		{name: "bob", method: "DELETE", path: "/api/v1/users/bob", token: root, want: http.StatusNoContent},
		{name: "bob again", method: "DELETE", path: "/api/v1/users/bob", token: root, want: http.StatusNotFound},
		{name: "listed", method: "GET", path: "/api/v1/users", token: root, want: http.StatusOK, notContains: []string{`"bob"`}},
		{name: "audit", method: "GET", path: "/api/v1/admin/audit?action=user.delete", token: root, want: http.StatusOK,
			contains: []string{`"target":"` + bob.User.ID, `"username":"bob"`}},
	})
	if code := bc.ExpectClose(); code != 4003 {
		t.Fatalf("bob's connection closed with %d, want 4003", code)
	}
}
