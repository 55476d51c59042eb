package postgres

import (
	"context"
	"fmt"
)

// ProbeWrite implements store.WriteProber: it updates the newest row of
// schema_version to the value it has. Nothing changes, but PostgreSQL
// writes the row's new version and the commit to its WAL as for any write,
// so the probe fails while the server is down or shutting down, refuses
// writes (read-only, a standby) or has no disk left for its WAL. A bare
// txid_current() would not do: it succeeds in a read-only transaction.
func (s *Store) ProbeWrite(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `UPDATE schema_version SET version = version
		WHERE version = (SELECT max(version) FROM schema_version)`)
	if err != nil {
		return fmt.Errorf("postgres: write probe: %w", s.check(err))
	}
	return nil
}
