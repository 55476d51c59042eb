package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// Users lists every account, oldest first; see store.Store.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	users, err := s.users(ctx)
	if err = s.settle(ctx, err); err != nil {
		return nil, fmt.Errorf("sqlite: users: %w", err)
	}
	return users, nil
}

func (s *Store) users(ctx context.Context) ([]store.User, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, userSelect+` ORDER BY created_at, id`)
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
	live, err := s.updateUser(ctx, userID, true, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
	if err != nil {
		return 0, fmt.Errorf("sqlite: set the password hash of %q: %w", userID, err)
	}
	return live, nil
}

// SetDisabled disables or enables an account; see store.Store.
func (s *Store) SetDisabled(ctx context.Context, userID string, disabled bool) (int, error) {
	live, err := s.updateUser(ctx, userID, disabled, `UPDATE users SET disabled = ? WHERE id = ?`, boolInt(disabled), userID)
	if err != nil {
		return 0, fmt.Errorf("sqlite: set %q disabled %v: %w", userID, disabled, err)
	}
	return live, nil
}

// updateUser runs update, which must change the account userID, and with
// signOut ends its sessions in the same transaction, returning how many of
// them were live.
func (s *Store) updateUser(ctx context.Context, userID string, signOut bool, update string, args ...any) (int, error) {
	var live int
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, update, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, store.ErrNotFound)
		}
		if !signOut {
			return nil
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE user_id = ? AND expires_at > ?`,
			userID, time.Now().UnixMilli()).Scan(&live); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		return err
	})
	return live, err
}
