package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/store"
)

// CreateAPIKey stores a key; see store.Store.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	created := store.Timestamp(k.CreatedAt)
	if created.IsZero() {
		created = store.Now()
	}
	db, err := s.db()
	if err == nil {
		scopes := k.Scopes
		if scopes == nil {
			scopes = []string{}
		}
		_, err = db.Exec(ctx, `INSERT INTO api_keys (id, name, hash, scopes, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, k.ID, k.Name, k.Hash, scopes, k.CreatedBy, created)
		if isUnique(err) {
			err = store.ErrConflict
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: create API key %q: %w", k.ID, s.check(err))
	}
	return nil
}

const keySelect = `SELECT id, name, hash, scopes, created_by, created_at, last_used_at, revoked_at FROM api_keys`

func scanKey(row pgx.Row) (store.APIKey, error) {
	var k store.APIKey
	var used, revoked *time.Time
	if err := row.Scan(&k.ID, &k.Name, &k.Hash, &k.Scopes, &k.CreatedBy, &k.CreatedAt, &used, &revoked); err != nil {
		return store.APIKey{}, err
	}
	if len(k.Scopes) == 0 {
		k.Scopes = nil
	}
	k.CreatedAt = utc(k.CreatedAt)
	if used != nil {
		k.LastUsedAt = utc(*used)
	}
	if revoked != nil {
		k.RevokedAt = utc(*revoked)
	}
	return k, nil
}

// APIKey returns a key by id; see store.Store.
func (s *Store) APIKey(ctx context.Context, id string) (store.APIKey, error) {
	db, err := s.db()
	var k store.APIKey
	if err == nil {
		k, err = scanKey(db.QueryRow(ctx, keySelect+` WHERE id = $1`, id))
		err = notFound(err)
	}
	if err != nil {
		return store.APIKey{}, fmt.Errorf("postgres: API key %q: %w", id, s.check(err))
	}
	return k, nil
}

// APIKeys lists every key; see store.Store.
func (s *Store) APIKeys(ctx context.Context) ([]store.APIKey, error) {
	db, err := s.db()
	if err != nil {
		return nil, fmt.Errorf("postgres: API keys: %w", s.check(err))
	}
	rows, err := db.Query(ctx, keySelect+` ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: API keys: %w", s.check(err))
	}
	defer rows.Close()
	var keys []store.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: API keys: %w", s.check(err))
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: API keys: %w", s.check(err))
	}
	return keys, nil
}

// RevokeAPIKey stops a key working; see store.Store.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	db, err := s.db()
	if err == nil {
		var tag interface{ RowsAffected() int64 }
		tag, err = db.Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, id, store.Now())
		if err == nil && tag.RowsAffected() == 0 {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: revoke API key %q: %w", id, s.check(err))
	}
	return nil
}

// TouchAPIKey records a key's use; see store.Store.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	db, err := s.db()
	if err == nil {
		_, err = db.Exec(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, id, store.Timestamp(at))
	}
	if err != nil {
		return fmt.Errorf("postgres: touch API key %q: %w", id, s.check(err))
	}
	return nil
}
