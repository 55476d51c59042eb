package storetest

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// adminTests cover what the admin command line needs: listing accounts,
// and a new password that signs the account out everywhere.
var adminTests = []namedTest{
	{"SetDisabled", func(t *testing.T, s store.Store) {
		c := ctx(t)
		_, err := s.CreateUser(c, store.User{ID: "u1", Username: "ann"})
		noErr(t, err, "CreateUser")
		future := time.Now().Add(time.Hour)
		noErr(t, s.CreateSession(c, store.Session{ID: "s1", UserID: "u1", TokenHash: "h1", ExpiresAt: future}), "CreateSession")
		noErr(t, s.CreateSession(c, store.Session{ID: "s2", UserID: "u1", TokenHash: "h2", ExpiresAt: future}), "CreateSession")
		n, err := s.SetDisabled(c, "u1", true)
		noErr(t, err, "SetDisabled")
		equal(t, n, 2, "live sessions ended by disabling")
		u, err := s.User(c, "u1")
		noErr(t, err, "User")
		equal(t, u.Disabled, true, "Disabled after SetDisabled")
		_, err = s.SessionByID(c, "s1")
		wantErr(t, err, store.ErrNotFound, "a session of a disabled account")
		users, err := s.Users(c)
		noErr(t, err, "Users")
		equal(t, users[0].Disabled, true, "Disabled in the list")
		n, err = s.SetDisabled(c, "u1", false)
		noErr(t, err, "SetDisabled false")
		equal(t, n, 0, "sessions ended by enabling")
		u, err = s.UserByName(c, "ann")
		noErr(t, err, "UserByName")
		equal(t, u.Disabled, false, "Disabled after enabling")
		_, err = s.SetDisabled(c, "nobody", true)
		wantErr(t, err, store.ErrNotFound, "SetDisabled of a missing account")
	}},
	{"UsersOldestFirst", func(t *testing.T, s store.Store) {
		c := ctx(t)
		users, err := s.Users(c)
		noErr(t, err, "Users of an empty store")
		if len(users) != 0 {
			t.Fatalf("Users of an empty store = %+v, want none", users)
		}
		t0 := store.Timestamp(time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC))
		// Made out of order; two in the same millisecond, which their ids
		// order.
		in := []store.User{
			{ID: "u_c", Username: "carol", DisplayName: "Carol", PasswordHash: "hc", CreatedAt: t0.Add(time.Second)},
			{ID: "u_b", Username: "bob", DisplayName: "Bob", PasswordHash: "hb", CreatedAt: t0, Admin: true},
			{ID: "u_a", Username: "ann", DisplayName: "Ann", PasswordHash: "ha", CreatedAt: t0},
		}
		for _, u := range in {
			_, err := s.CreateUser(c, u)
			noErr(t, err, "CreateUser "+u.Username)
		}
		users, err = s.Users(c)
		noErr(t, err, "Users")
		equal(t, users, []store.User{in[2], in[1], in[0]}, "users, oldest first")
	}},
	{"SetPasswordHashSignsOut", func(t *testing.T, s store.Store) {
		c := ctx(t)
		_, err := s.CreateUser(c, store.User{ID: "u1", Username: "ann", PasswordHash: "old"})
		noErr(t, err, "CreateUser")
		live := store.Now().Add(time.Hour)
		for _, sess := range []store.Session{
			{ID: "s1", UserID: "u1", TokenHash: "h1", ExpiresAt: live},
			{ID: "s2", UserID: "u1", TokenHash: "h2", ExpiresAt: live},
			{ID: "s3", UserID: "u1", TokenHash: "h3", ExpiresAt: store.Now().Add(-time.Second)},
			{ID: "other", UserID: "u2", TokenHash: "h4", ExpiresAt: live},
		} {
			noErr(t, s.CreateSession(c, sess), "CreateSession "+sess.ID)
		}
		n, err := s.SetPasswordHash(c, "u1", "new", "")
		noErr(t, err, "SetPasswordHash")
		equal(t, n, 2, "live sessions signed out")
		u, err := s.User(c, "u1")
		noErr(t, err, "User")
		equal(t, u.PasswordHash, "new", "password hash")
		for _, id := range []string{"s1", "s2"} {
			_, err := s.SessionByID(c, id)
			wantErr(t, err, store.ErrNotFound, "SessionByID "+id+" after a new password")
		}
		_, err = s.SessionByTokenHash(c, "h1")
		wantErr(t, err, store.ErrNotFound, "SessionByTokenHash after a new password")
		_, err = s.SessionByID(c, "other")
		noErr(t, err, "another user's session")

		n, err = s.SetPasswordHash(c, "u1", "newer", "")
		noErr(t, err, "SetPasswordHash again")
		equal(t, n, 0, "sessions signed out the second time")
	}},
	{"SetPasswordHashMissing", func(t *testing.T, s store.Store) {
		c := ctx(t)
		noErr(t, s.CreateSession(c, store.Session{ID: "s1", UserID: "ghost", TokenHash: "h1",
			ExpiresAt: store.Now().Add(time.Hour)}), "CreateSession")
		_, err := s.SetPasswordHash(c, "ghost", "new", "")
		wantErr(t, err, store.ErrNotFound, "SetPasswordHash of a missing account")
		_, err = s.SessionByID(c, "s1")
		noErr(t, err, "the session of a missing account, after a refused SetPasswordHash")
	}},
}
