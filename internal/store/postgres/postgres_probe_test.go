package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
)

// TestProbeWrite: the probe commits on a working store, leaves the schema
// version as it was, and fails once the store is closed.
func TestProbeWrite(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, pgtest.FreshSchema(t))
	var before, after int
	if err := s.pool.QueryRow(ctx, `SELECT max(version) FROM schema_version`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.ProbeWrite(ctx); err != nil {
			t.Fatalf("ProbeWrite: %v", err)
		}
	}
	if err := s.pool.QueryRow(ctx, `SELECT max(version) FROM schema_version`).Scan(&after); err != nil || after != before {
		t.Fatalf("schema version %d (%v) after probes, want %d", after, err, before)
	}
	s.Close()
	if err := s.ProbeWrite(ctx); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("ProbeWrite after Close: %v, want ErrClosed", err)
	}
}
