package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/store"
)

// Users lists every account, oldest first; see store.Store.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	users, err := s.users(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: users: %w", s.check(err))
	}
	return users, nil
}

func (s *Store) users(ctx context.Context) ([]store.User, error) {
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, userSelect+` ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var users []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// SetPasswordHash replaces an account's password hash and ends its
// sessions in the same transaction; see store.Store.
func (s *Store) SetPasswordHash(ctx context.Context, userID, hash string) (int, error) {
	live, err := s.updateUser(ctx, userID, true, `UPDATE users SET password_hash = $2 WHERE id = $1`, userID, hash)
	if err != nil {
		return 0, fmt.Errorf("postgres: set the password hash of %q: %w", userID, err)
	}
	return live, nil
}

// SetDisabled disables or enables an account; see store.Store.
func (s *Store) SetDisabled(ctx context.Context, userID string, disabled bool) (int, error) {
	live, err := s.updateUser(ctx, userID, disabled, `UPDATE users SET disabled = $2 WHERE id = $1`, userID, disabled)
	if err != nil {
		return 0, fmt.Errorf("postgres: set %q disabled %v: %w", userID, disabled, err)
	}
	return live, nil
}

// updateUser runs update, which must change the account userID (its $1),
// and with signOut ends its sessions in the same transaction, returning
// how many of them were live.
func (s *Store) updateUser(ctx context.Context, userID string, signOut bool, update string, args ...any) (int, error) {
	var live int
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, update, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		if !signOut {
			return nil
		}
		// Expiry is compared with this node's clock, as everywhere else.
		return tx.QueryRow(ctx, `WITH gone AS (DELETE FROM sessions WHERE user_id = $1 RETURNING expires_at)
			SELECT count(*) FROM gone WHERE expires_at > $2`, userID, time.Now()).Scan(&live)
	})
	return live, err
}
