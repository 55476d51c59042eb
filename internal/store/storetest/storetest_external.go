package storetest

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

var externalUserTests = []namedTest{
	{"SeenOnceThenAgain", func(t *testing.T, s store.Store) {
		c := ctx(t)
		_, err := s.ExternalUser(c, "ext-42")
		wantErr(t, err, store.ErrNotFound, "ExternalUser never seen")

		before := time.Now()
		noErr(t, s.SeeExternalUser(c, "ext-42", "Ada"), "SeeExternalUser")
		first, err := s.ExternalUser(c, "ext-42")
		noErr(t, err, "ExternalUser")
		equal(t, first.ID, "ext-42", "ID")
		equal(t, first.Name, "Ada", "Name")
		storeTime(t, first.FirstSeen, before, time.Now(), "FirstSeen")
		equal(t, first.LastSeen, first.FirstSeen, "LastSeen of a first sign-in")

		// Stored times have millisecond precision: wait for the next one so
		// LastSeen can be told from FirstSeen.
		for store.Now().Equal(first.LastSeen) {
			time.Sleep(time.Millisecond)
		}
		noErr(t, s.SeeExternalUser(c, "ext-42", "Ada Lovelace"), "SeeExternalUser again")
		again, err := s.ExternalUser(c, "ext-42")
		noErr(t, err, "ExternalUser after a second sign-in")
		equal(t, again.Name, "Ada Lovelace", "Name after a new name")
		equal(t, again.FirstSeen, first.FirstSeen, "FirstSeen after a second sign-in")
		if !again.LastSeen.After(first.LastSeen) {
			t.Fatalf("LastSeen %v did not move past %v", again.LastSeen, first.LastSeen)
		}
	}},
	{"NotAnAccount", func(t *testing.T, s store.Store) {
		c := ctx(t)
		noErr(t, s.SeeExternalUser(c, "ext-7", "Bo"), "SeeExternalUser")
		_, err := s.User(c, "ext-7")
		wantErr(t, err, store.ErrNotFound, "User of an external user")
		_, err = s.CreateUser(c, store.User{ID: "u1", Username: "ann"})
		noErr(t, err, "CreateUser")
		_, err = s.ExternalUser(c, "u1")
		wantErr(t, err, store.ErrNotFound, "ExternalUser of an account")
	}},
}
