package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/groupcommit"
	"github.com/parley-chat/parley/internal/store/internal/migration"
)

// migrationFiles are the schema steps, named NNNN_what.sql and applied in
// order of NNNN (see package migration). They are forward-only: a released
// file never changes; a new step is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the pg_advisory_xact_lock key that serialises
// migrations across nodes: an arbitrary constant ("parley" in ASCII) that
// other applications sharing the database are unlikely to use.
const migrationLockKey int64 = 0x7061726c6579

// defaultMaxConns is the pool size when the URL sets no pool_max_conns.
const defaultMaxConns = 16

// Store is the PostgreSQL store.Store. Create it with Open; it is safe for
// concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	closed    atomic.Bool
	closeOnce sync.Once

	// The batcher (see AppendAsync): appends queues requests for it, amu
	// orders those sends against Close closing the channel, and the
	// completer runs committed batches' callbacks.
	amu         sync.RWMutex
	appends     chan *appendReq
	completer   *groupcommit.Completer[*appendReq]
	batcherDone chan struct{}
	commits     groupcommit.Observed // hears of every batch's transaction
}

var (
	_ store.Store         = (*Store)(nil)
	_ store.AsyncAppender = (*Store)(nil)
	_ store.Observable    = (*Store)(nil)
	_ store.WriteProber   = (*Store)(nil)
)

// ObserveCommits implements store.Observable: o hears of the transaction of
// each batch of chat appends (see AppendAsync), from its begin to its
// commit. Other writes, one transaction each, are not reported.
func (s *Store) ObserveCommits(o store.CommitObserver) { s.commits.Set(o) }

// Open connects to the database at url (a postgres:// URL or key=value
// string; pool settings such as pool_max_conns may be given in it, default
// 16 connections), migrates the schema in the connection's search_path to
// the version this binary knows, and returns the store. A database migrated by a newer binary fails
// with store.ErrSchemaTooNew.
func Open(ctx context.Context, url string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The URL may hold a password: do not echo it.
		return nil, fmt.Errorf("postgres: parse database url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default, max(4, cores), caps a 2-core node at four
		// appends in flight, each waiting on its commit; with
		// BenchmarkAppend on a shared 2-core machine 16 roughly doubled the
		// messages per second. Sixteen per node stays well inside
		// PostgreSQL's default max_connections of 100 for a few nodes.
		cfg.MaxConns = max(cfg.MaxConns, defaultMaxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	if err := migrate(ctx, pool, logger); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, logger: logger,
		appends:     make(chan *appendReq, maxAppendBatch),
		completer:   groupcommit.NewCompleter((*appendReq).finish),
		batcherDone: make(chan struct{}),
	}
	go s.batchAppends()
	return s, nil
}

// migrate brings the schema to the newest embedded version in one
// transaction. pg_advisory_xact_lock makes a second node that starts at the
// same moment wait, then find the work done.
func migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	steps, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
			return fmt.Errorf("migrate: take lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`); err != nil {
			return fmt.Errorf("migrate: create schema_version: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&current); err != nil {
			return fmt.Errorf("migrate: read schema_version: %w", err)
		}
		if current > len(steps) {
			return fmt.Errorf("migrate: database is at schema version %d but this binary knows only up to %d; run a newer parley: %w",
				current, len(steps), store.ErrSchemaTooNew)
		}
		for _, m := range steps[current:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migrate: apply %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, m.Version); err != nil {
				return fmt.Errorf("migrate: record %s: %w", m.Name, err)
			}
			logger.Info("postgres: applied migration", "migration", m.Name)
		}
		if err := backfillSkeletons(ctx, tx, logger); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return nil
	})
}

// Close stores the appends already queued (and runs their callbacks),
// waits for in-flight calls to give back their connections and closes the
// pool. Calls made after Close return store.ErrClosed. Closing twice is
// harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.amu.Lock()
		s.closed.Store(true)
		close(s.appends)
		s.amu.Unlock()
		<-s.batcherDone
		s.pool.Close()
	})
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(s.pool.Ping(ctx)); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// check passes err through, but reports any failure of a closed store as
// store.ErrClosed (pgxpool's own error for a closed pool is not a sentinel).
func (s *Store) check(err error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return err
}

// write runs fn in a transaction and commits it. If fn fails the
// transaction is rolled back, which also returns any sequence number it took.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	err := pgx.BeginFunc(ctx, s.pool, fn)
	if err != nil && !isSentinel(err) {
		return s.check(err)
	}
	return err
}

// isSentinel reports whether err is one of the store's own outcomes, which
// must reach the caller as they are even if the store closes meanwhile.
func isSentinel(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrForbidden)
}

// isUnique reports whether err is a unique_violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isForeignKey reports whether err is a foreign_key_violation, which here
// means the referenced room does not exist.
func isForeignKey(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// notFound turns pgx.ErrNoRows into store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// querier is what both the pool and a transaction offer, so loading helpers
// serve reads and writes.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// execer is what both the pool and a transaction offer for statements
// that return no rows.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// utc normalises a time read from PostgreSQL (pgx returns local time) to
// the store's form.
func utc(t time.Time) time.Time { return store.Timestamp(t) }

// optTime turns a nullable column into the zero time for NULL.
func optTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return utc(*t)
}
