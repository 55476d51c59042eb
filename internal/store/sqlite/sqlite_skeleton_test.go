package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/storetest"
)

// TestSkeletonBackfill checks what Open does with accounts stored before
// username skeletons existed: each gets its skeleton, two that already
// look alike both stay (the newer without a skeleton, logged at every
// start), and a new look-alike of either is refused.
func TestSkeletonBackfill(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// As an older binary would have stored them: no skeleton.
	rewrite(t, path, func(tx *sql.Tx) {
		for i, name := range []string{"paypal", "p\u0430ypal", "carol"} {
			if _, err := tx.Exec(`INSERT INTO users (id, username, username_key, display_name, password_hash, admin, created_at)
				VALUES (?, ?, ?, ?, '', 0, ?)`, "u"+name, name, store.UsernameKey(name), name, 1000+i); err != nil {
				t.Fatal(err)
			}
		}
	})
	for range 2 { // the second open finds the same collision and changes nothing
		var logs storetest.LogBuffer
		s, err = Open(ctx, path, slog.New(slog.NewTextHandler(&logs, nil)))
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
