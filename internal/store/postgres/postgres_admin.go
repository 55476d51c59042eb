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
	rows, err := db.Query(ctx, `SELECT id, username, display_name, password_hash, admin, created_at
		FROM users ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var users []store.User
	for rows.Next() {
		var u store.User
		if err := rows.Scan(&u.ID, &u.Username, &u.DisplayName, &u.PasswordHash, &u.Admin, &u.CreatedAt); err != nil {
			return nil, err
		}
		u.CreatedAt = utc(u.CreatedAt)
		users = append(users, u)
	}
	return users, rows.Err()
}

// SetPasswordHash replaces an account's password hash and ends its
// sessions in the same transaction; see store.Store.
func (s *Store) SetPasswordHash(ctx context.Context, userID, hash string) (int, error) {
	var live int
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, userID, hash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		// Expiry is compared with this node's clock, as everywhere else.
		return tx.QueryRow(ctx, `WITH gone AS (DELETE FROM sessions WHERE user_id = $1 RETURNING expires_at)
			SELECT count(*) FROM gone WHERE expires_at > $2`, userID, time.Now()).Scan(&live)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: set the password hash of %q: %w", userID, err)
	}
	return live, nil
}
