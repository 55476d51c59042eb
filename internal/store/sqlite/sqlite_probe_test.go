package sqlite

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-chat/parley/internal/store"
)

// TestProbeWrite: the probe commits on a working store, changes no
// user_version, and fails once the store is closed.
func TestProbeWrite(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	for range 3 {
		if err := s.ProbeWrite(ctx); err != nil {
			t.Fatalf("ProbeWrite: %v", err)
		}
	}
	var v int
	if err := s.r.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil || v != 0 {
		t.Fatalf("user_version %d (%v) after probes, want 0", v, err)
	}
	s.Close()
	if err := s.ProbeWrite(ctx); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("ProbeWrite after Close: %v, want ErrClosed", err)
	}
}
