package postgres

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
)

// TestSkeletonBackfill checks what Open does with accounts stored before
// username skeletons existed: each gets its skeleton, two that already
// look alike both stay (the newer without a skeleton, logged at every
// start), and a new look-alike of either is refused.
func TestSkeletonBackfill(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.FreshSchema(t)
	s := openAt(t, dbURL)
	// As an older binary would have stored them: no skeleton.
	for i, name := range []string{"paypal", "p\u0430ypal", "carol"} {
		if _, err := s.pool.Exec(ctx, `INSERT INTO users (id, username, username_key, display_name, password_hash, admin, created_at)
			VALUES ($1, $2, $3, $2, '', false, $4)`, "u"+name, name, store.UsernameKey(name),
			time.Unix(1000+int64(i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	for range 2 { // the second open finds the same collision and changes nothing
		var logs storetest.LogBuffer
		s, err := Open(ctx, dbURL, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if out := logs.String(); !strings.Contains(out, "look-alike usernames") || !strings.Contains(out, "looks_like=paypal") {
			t.Fatalf("no warning of the collision in the log:\n%s", out)
		}
		for _, name := range []string{"paypal", "p\u0430ypal", "carol"} {
			if _, err := s.UserByName(ctx, name); err != nil {
				t.Fatalf("UserByName %q after the backfill: %v", name, err)
			}
		}
		for _, name := range []string{"p\u0430yp\u0430l", "c\u0430rol"} {
			if _, err := s.CreateUser(ctx, store.User{ID: "new", Username: name}); !errors.Is(err, store.ErrLookalike) {
				t.Fatalf("CreateUser %q after the backfill: %v, want ErrLookalike", name, err)
			}
		}
		s.Close()
	}
}
