package sqlite

import (
	"context"
	"fmt"
)

// ProbeWrite implements store.WriteProber: through the writer, like any
// write, it sets the database header's user_version (which Parley does
// not use) to the value it has. That changes nothing, but SQLite still
// writes the header page to the WAL and the commit is flushed to disk, so
// it fails when the disk is full or cannot be written, as a message would.
func (s *Store) ProbeWrite(ctx context.Context) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		var v int64
		if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: write probe: %w", err)
	}
	return nil
}
