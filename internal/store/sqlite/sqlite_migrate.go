package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/migration"
)

// migrationFiles are the schema steps, named NNNN_what.sql and applied in
// order of NNNN (see package migration). They are forward-only: a released
// file never changes; a new step is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate brings the database to the newest embedded version in one
// transaction, or fails with store.ErrSchemaTooNew if the database is ahead
// of this binary. BEGIN IMMEDIATE (the writer's _txlock) takes the write lock
// first, so two processes opening the same file cannot both migrate it.
func migrate(ctx context.Context, db *sql.DB, logger *slog.Logger) error {
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback() // no-op after Commit
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: create schema_version: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: read schema_version: %w", err)
	}
	latest := len(ms)
	if current > latest {
		return fmt.Errorf("migrate: database is at schema version %d but this binary knows only up to %d; run a newer parley: %w",
			current, latest, store.ErrSchemaTooNew)
	}
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate: apply %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, m.Version); err != nil {
			return fmt.Errorf("migrate: record %s: %w", m.Name, err)
		}
		logger.Info("sqlite: applied migration", "migration", m.Name)
	}
	if err := backfillSkeletons(ctx, tx, logger); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if latest > current {
		pauseForTest(logger)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// EnvMigrationPause names a variable for tests only: set to a duration
// (like 30s), a migration that applied steps waits that long before it
// commits, having logged that it does. A test kills the process in that
// wait to prove that a migration cut short leaves the database as it was
// and the next start migrates it to the end: the whole migration is one
// transaction, so without the wait the moment of the kill would be a race
// against steps that take well under a millisecond.
const EnvMigrationPause = "PARLEY_TEST_MIGRATION_PAUSE"

// pauseForTest waits as EnvMigrationPause asks, if it does.
func pauseForTest(logger *slog.Logger) {
	d, err := time.ParseDuration(os.Getenv(EnvMigrationPause))
	if err != nil || d <= 0 {
		return
	}
	logger.Warn("sqlite: migration paused before its commit, for a test", "env", EnvMigrationPause, "for", d)
	time.Sleep(d)
}
