package storetest

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

var apiKeyTests = []namedTest{
	{"CreateFindList", func(t *testing.T, s store.Store) {
		c := ctx(t)
		created := store.Timestamp(time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC))
		k1 := store.APIKey{ID: "k1", Name: "backend", Hash: "h1", Scopes: []string{"publish", "rooms"},
			CreatedBy: "u_admin", CreatedAt: created}
		noErr(t, s.CreateAPIKey(c, k1), "CreateAPIKey")
		got, err := s.APIKey(c, "k1")
		noErr(t, err, "APIKey")
		equal(t, got, k1, "stored key")
		k2 := store.APIKey{ID: "k2", Name: "ops", Hash: "h2", CreatedAt: created.Add(time.Second)}
		noErr(t, s.CreateAPIKey(c, k2), "CreateAPIKey without scopes")
		keys, err := s.APIKeys(c)
		noErr(t, err, "APIKeys")
		equal(t, keys, []store.APIKey{k1, k2}, "keys, oldest first")
		_, err = s.APIKey(c, "nope")
		wantErr(t, err, store.ErrNotFound, "APIKey of a missing id")
	}},
	{"Unique", func(t *testing.T, s store.Store) {
		c := ctx(t)
		noErr(t, s.CreateAPIKey(c, store.APIKey{ID: "k1", Name: "a", Hash: "h1"}), "CreateAPIKey")
		wantErr(t, s.CreateAPIKey(c, store.APIKey{ID: "k1", Name: "b", Hash: "h2"}), store.ErrConflict, "a taken id")
		wantErr(t, s.CreateAPIKey(c, store.APIKey{ID: "k2", Name: "b", Hash: "h1"}), store.ErrConflict, "a taken hash")
	}},
	{"RevokeAndTouch", func(t *testing.T, s store.Store) {
		c := ctx(t)
		before := time.Now()
		noErr(t, s.CreateAPIKey(c, store.APIKey{ID: "k1", Name: "a", Hash: "h1"}), "CreateAPIKey")
		k, err := s.APIKey(c, "k1")
		noErr(t, err, "APIKey")
		storeTime(t, k.CreatedAt, before, time.Now(), "CreatedAt defaulting to now")
		if !k.LastUsedAt.IsZero() || !k.RevokedAt.IsZero() {
			t.Fatalf("a new key: last used %v, revoked %v; want both zero", k.LastUsedAt, k.RevokedAt)
		}
		used := store.Timestamp(time.Now())
		noErr(t, s.TouchAPIKey(c, "k1", used), "TouchAPIKey")
		k, err = s.APIKey(c, "k1")
		noErr(t, err, "APIKey")
		equal(t, k.LastUsedAt, used, "LastUsedAt")

		before = time.Now()
		noErr(t, s.RevokeAPIKey(c, "k1"), "RevokeAPIKey")
		k, err = s.APIKey(c, "k1")
		noErr(t, err, "APIKey of a revoked key")
		storeTime(t, k.RevokedAt, before, time.Now(), "RevokedAt")
		first := k.RevokedAt
		for store.Now().Equal(first) {
			time.Sleep(time.Millisecond)
		}
		noErr(t, s.RevokeAPIKey(c, "k1"), "RevokeAPIKey again")
		k, err = s.APIKey(c, "k1")
		noErr(t, err, "APIKey")
		equal(t, k.RevokedAt, first, "RevokedAt after a second revocation")
		wantErr(t, s.RevokeAPIKey(c, "nope"), store.ErrNotFound, "RevokeAPIKey of a missing key")
	}},
}
