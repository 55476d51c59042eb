package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/msgstate"
)

// CreateAPIKey stores a key; see store.Store.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	created := store.Timestamp(k.CreatedAt)
	if created.IsZero() {
		created = store.Now()
	}
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, name, hash, scopes, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, k.ID, k.Name, k.Hash, strings.Join(k.Scopes, ","), k.CreatedBy, msgstate.Millis(created))
		if isUnique(err) {
			return store.ErrConflict
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create API key %q: %w", k.ID, err)
	}
	return nil
}

const keySelect = `SELECT id, name, hash, scopes, created_by, created_at, last_used_at, revoked_at FROM api_keys`

func scanKey(row interface{ Scan(...any) error }) (store.APIKey, error) {
	var k store.APIKey
	var scopes string
	var created, used, revoked int64
	if err := row.Scan(&k.ID, &k.Name, &k.Hash, &scopes, &k.CreatedBy, &created, &used, &revoked); err != nil {
		return store.APIKey{}, err
	}
	if scopes != "" {
		k.Scopes = strings.Split(scopes, ",")
	}
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = msgstate.FromMillis(created), msgstate.FromMillis(used), msgstate.FromMillis(revoked)
	return k, nil
}

// APIKey returns a key by id; see store.Store.
func (s *Store) APIKey(ctx context.Context, id string) (store.APIKey, error) {
	db, err := s.reader()
	if err != nil {
		return store.APIKey{}, err
	}
	k, err := scanKey(db.QueryRowContext(ctx, keySelect+` WHERE id = ?`, id))
	if err = s.settle(ctx, notFound(err)); err != nil {
		return store.APIKey{}, fmt.Errorf("sqlite: API key %q: %w", id, err)
	}
	return k, nil
}

// APIKeys lists every key; see store.Store.
func (s *Store) APIKeys(ctx context.Context) ([]store.APIKey, error) {
	keys, err := s.apiKeys(ctx)
	if err = s.settle(ctx, err); err != nil {
		return nil, fmt.Errorf("sqlite: API keys: %w", err)
	}
	return keys, nil
}

func (s *Store) apiKeys(ctx context.Context) ([]store.APIKey, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, keySelect+` ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []store.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// RevokeAPIKey stops a key working; see store.Store.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		var revoked int64
		err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM api_keys WHERE id = ?`, id).Scan(&revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil || revoked != 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ?`, msgstate.Millis(store.Now()), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: revoke API key %q: %w", id, err)
	}
	return nil
}

// TouchAPIKey records a key's use; see store.Store.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, msgstate.Millis(store.Timestamp(at)), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: touch API key %q: %w", id, err)
	}
	return nil
}
