package storetest

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

var userTests = []namedTest{
	{"CreateAndFind", func(t *testing.T, s store.Store) {
		c := ctx(t)
		created := store.Timestamp(time.Date(2023, 4, 5, 6, 7, 8, 999_999_999, time.UTC))
		u, err := s.CreateUser(c, store.User{ID: "u1", Username: "Ann", DisplayName: "Ann A.",
			PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", Admin: true, CreatedAt: created})
		noErr(t, err, "CreateUser")
		want := store.User{ID: "u1", Username: "Ann", DisplayName: "Ann A.",
			PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", Admin: true, CreatedAt: created}
		equal(t, u, want, "created user")
		got, err := s.User(c, "u1")
		noErr(t, err, "User")
		equal(t, got, want, "User")
		for _, name := range []string{"Ann", "ann", "ANN"} {
			got, err = s.UserByName(c, name)
			noErr(t, err, "UserByName "+name)
			equal(t, got, want, "UserByName "+name)
		}
	}},
	{"CreatedAtDefaultsToNow", func(t *testing.T, s store.Store) {
		before := time.Now()
		u, err := s.CreateUser(ctx(t), store.User{ID: "u1", Username: "bob"})
		noErr(t, err, "CreateUser")
		storeTime(t, u.CreatedAt, before, time.Now(), "CreatedAt")
		got, err := s.User(ctx(t), "u1")
		noErr(t, err, "User")
		equal(t, got, u, "User")
	}},
	{"UsernameUniqueCaseInsensitively", func(t *testing.T, s store.Store) {
		c := ctx(t)
		_, err := s.CreateUser(c, store.User{ID: "u1", Username: "Ann"})
		noErr(t, err, "CreateUser")
		_, err = s.CreateUser(c, store.User{ID: "u2", Username: "aNN"})
		wantErr(t, err, store.ErrConflict, "CreateUser with a name differing in case")
		_, err = s.CreateUser(c, store.User{ID: "u1", Username: "other"})
		wantErr(t, err, store.ErrConflict, "CreateUser with a taken id")
		_, err = s.User(c, "u2")
		wantErr(t, err, store.ErrNotFound, "User that failed to be created")
	}},
	{"SetAdmin", func(t *testing.T, s store.Store) {
		c := ctx(t)
		_, err := s.CreateUser(c, store.User{ID: "u1", Username: "ann"})
		noErr(t, err, "CreateUser")
		for _, admin := range []bool{true, false} {
			noErr(t, s.SetAdmin(c, "u1", admin), "SetAdmin")
			u, err := s.User(c, "u1")
			noErr(t, err, "User")
			equal(t, u.Admin, admin, "Admin after SetAdmin")
		}
		wantErr(t, s.SetAdmin(c, "nobody", true), store.ErrNotFound, "SetAdmin of a missing account")
	}},
	{"NotFound", func(t *testing.T, s store.Store) {
		_, err := s.User(ctx(t), "nobody")
		wantErr(t, err, store.ErrNotFound, "User")
		_, err = s.UserByName(ctx(t), "nobody")
		wantErr(t, err, store.ErrNotFound, "UserByName")
	}},
}

var sessionTests = []namedTest{
	{"CreateFindRotateDelete", func(t *testing.T, s store.Store) {
		c := ctx(t)
		created := store.Now().Add(-time.Minute)
		sess := store.Session{ID: "s1", UserID: "u1", TokenHash: "h1", CreatedAt: created,
			ExpiresAt: store.Now().Add(time.Hour)}
		noErr(t, s.CreateSession(c, sess), "CreateSession")
		got, err := s.SessionByTokenHash(c, "h1")
		noErr(t, err, "SessionByTokenHash")
		equal(t, got, sess, "session by hash")
		got, err = s.SessionByID(c, "s1")
		noErr(t, err, "SessionByID")
		equal(t, got, sess, "session by id")

		expires := store.Now().Add(2 * time.Hour)
		noErr(t, s.RotateSession(c, "s1", "h2", expires), "RotateSession")
		_, err = s.SessionByTokenHash(c, "h1")
		wantErr(t, err, store.ErrNotFound, "old token hash after rotation")
		got, err = s.SessionByTokenHash(c, "h2")
		noErr(t, err, "SessionByTokenHash new")
		want := sess
		want.TokenHash, want.ExpiresAt = "h2", expires
		equal(t, got, want, "rotated session")

		noErr(t, s.DeleteSession(c, "s1"), "DeleteSession")
		_, err = s.SessionByID(c, "s1")
		wantErr(t, err, store.ErrNotFound, "SessionByID after delete")
		_, err = s.SessionByTokenHash(c, "h2")
		wantErr(t, err, store.ErrNotFound, "SessionByTokenHash after delete")
		noErr(t, s.DeleteSession(c, "s1"), "DeleteSession of a missing session")
		wantErr(t, s.RotateSession(c, "s1", "h3", expires), store.ErrNotFound, "RotateSession of a missing session")
	}},
	{"ExpiredNotFound", func(t *testing.T, s store.Store) {
		c := ctx(t)
		sess := store.Session{ID: "old", UserID: "u1", TokenHash: "h-old",
			CreatedAt: store.Now().Add(-2 * time.Hour), ExpiresAt: store.Now().Add(-time.Second)}
		noErr(t, s.CreateSession(c, sess), "CreateSession")
		_, err := s.SessionByTokenHash(c, "h-old")
		wantErr(t, err, store.ErrNotFound, "SessionByTokenHash of expired session")
		_, err = s.SessionByID(c, "old")
		wantErr(t, err, store.ErrNotFound, "SessionByID of expired session")
		wantErr(t, s.RotateSession(c, "old", "h-new", store.Now().Add(time.Hour)), store.ErrNotFound,
			"RotateSession of expired session")
		noErr(t, s.DeleteSession(c, "old"), "DeleteSession of expired session")
	}},
	{"CreatedAtDefaultsToNow", func(t *testing.T, s store.Store) {
		c := ctx(t)
		before := time.Now()
		noErr(t, s.CreateSession(c, store.Session{ID: "s", UserID: "u", TokenHash: "h",
			ExpiresAt: store.Now().Add(time.Hour)}), "CreateSession")
		got, err := s.SessionByID(c, "s")
		noErr(t, err, "SessionByID")
		storeTime(t, got.CreatedAt, before, time.Now(), "CreatedAt")
	}},
}

var lifecycleTests = []namedTest{
	{"Ping", func(t *testing.T, s store.Store) {
		noErr(t, s.Ping(ctx(t)), "Ping")
	}},
	{"ClosedStoreRefuses", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "r", "")
		noErr(t, s.Close(), "Close")
		c := ctx(t)
		wantErr(t, s.Ping(c), store.ErrClosed, "Ping after Close")
		_, _, err := s.Append(c, store.NewMessage{Room: "r", Sender: "u", Text: "x"})
		wantErr(t, err, store.ErrClosed, "Append after Close")
		_, err = s.Room(c, "r")
		wantErr(t, err, store.ErrClosed, "Room after Close")
		_, err = s.History(c, "r", store.HistoryQuery{Limit: 1})
		wantErr(t, err, store.ErrClosed, "History after Close")
	}},
	{"CloseWaitsForInFlightWrites", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "r", "")
		c := ctx(t)
		const n = 50
		errs := make(chan error, n)
		for range n {
			go func() {
				_, _, err := s.Append(c, store.NewMessage{Room: "r", Sender: "u", Text: "x"})
				errs <- err
			}()
		}
		// Close while appends are in flight: each must either commit or
		// fail with ErrClosed, never hang or fail otherwise.
		noErr(t, s.Close(), "Close")
		for range n {
			if err := <-errs; err != nil {
				wantErr(t, err, store.ErrClosed, "Append racing Close")
			}
		}
	}},
}
