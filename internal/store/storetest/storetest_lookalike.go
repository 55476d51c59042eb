package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/store"
)

// lookalikeTests check that CreateUser refuses a username whose
// store.UsernameSkeleton is taken, atomically, and tells it from a taken
// name.
var lookalikeTests = []namedTest{
	{"Refused", func(t *testing.T, s store.Store) {
		c := ctx(t)
		taken := []string{"alice", "paypal", "google", "bill", "modern", "admin", "bob"}
		for i, name := range taken {
			_, err := s.CreateUser(c, store.User{ID: fmt.Sprint("u", i), Username: name})
			noErr(t, err, "CreateUser "+name)
		}
		for _, tc := range []struct{ name, looksLike string }{
			{"\u0430lice", "alice"},                     // Cyrillic а
			{"p\u0430yp\u0430l", "paypal"},              // Cyrillic а twice
			{"b\u03bfb", "bob"},                         // Greek ο
			{"\uff41\uff44\uff4d\uff49\uff4e", "admin"}, // full-width
			{"\u0430dm\u0456n", "admin"},                // Cyrillic а and і among Latin
			{"g00gle", "google"},                        // digit 0 for o
			{"bi11", "bill"},                            // digit 1 for l
			{"rnodern", "modern"},                       // rn for m
		} {
			_, err := s.CreateUser(c, store.User{ID: "new-" + tc.name, Username: tc.name})
			var le *store.LookalikeError
			if !errors.As(err, &le) || !errors.Is(err, store.ErrLookalike) {
				t.Fatalf("CreateUser %q: err = %v, want a *LookalikeError", tc.name, err)
			}
			equal(t, le.Existing, tc.looksLike, "the name "+tc.name+" looks like")
			_, err = s.UserByName(c, tc.name)
			wantErr(t, err, store.ErrNotFound, "UserByName of refused "+tc.name)
		}
		// The same name is a conflict, not a look-alike.
		_, err := s.CreateUser(c, store.User{ID: "x", Username: "ALICE"})
		if !errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrLookalike) {
			t.Fatalf("CreateUser ALICE: err = %v, want ErrConflict only", err)
		}
		// Names that merely resemble each other are allowed.
		for i, name := range []string{"alicia", "rob", "googles"} {
			_, err := s.CreateUser(c, store.User{ID: fmt.Sprint("ok", i), Username: name})
			noErr(t, err, "CreateUser "+name)
		}
	}},
	{"DeletedNameStaysTaken", func(t *testing.T, s store.Store) {
		c := ctx(t)
		_, err := s.CreateUser(c, store.User{ID: "u1", Username: "paypal"})
		noErr(t, err, "CreateUser")
		_, err = s.DeleteUser(c, "u1")
		noErr(t, err, "DeleteUser")
		_, err = s.CreateUser(c, store.User{ID: "u2", Username: "p\u0430ypal"})
		wantErr(t, err, store.ErrLookalike, "CreateUser look-alike of a deleted account")
	}},
	{"Atomic", func(t *testing.T, s store.Store) {
		// Many look-alikes of one name at once: exactly one is created.
		c := ctx(t)
		names := []string{"paypal", "p\u0430ypal", "p\u0430yp\u0430l", "paypa1", "\u0440aypal", "PAYPAL", "\uff50aypal", "pay\u0440al"}
		var wg sync.WaitGroup
		errs := make([]error, len(names))
		for i, name := range names {
			wg.Go(func() {
				_, errs[i] = s.CreateUser(c, store.User{ID: fmt.Sprint("u", i), Username: name})
			})
		}
		wg.Wait()
		created := 0
		for i, err := range errs {
			switch {
			case err == nil:
				created++
			case !errors.Is(err, store.ErrLookalike) && !errors.Is(err, store.ErrConflict):
				t.Fatalf("CreateUser %q: %v", names[i], err)
			}
		}
		equal(t, created, 1, "accounts created among look-alikes")
	}},
}
