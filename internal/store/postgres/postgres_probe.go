package postgres

import (
	"context"
	"fmt"
)

// ProbeWrite implements store.WriteProber: txid_current() gives the
// probe's transaction an id, so PostgreSQL writes and flushes its commit
// record to the WAL as it does for any write, without touching a table.
// It fails while the server is down, shutting down, read-only or out of
// disk for its WAL.
func (s *Store) ProbeWrite(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `SELECT txid_current()`); err != nil {
		return fmt.Errorf("postgres: write probe: %w", s.check(err))
	}
	return nil
}
